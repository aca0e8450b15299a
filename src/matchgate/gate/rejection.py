"""A rejection: a stable reason (a key of codes.REASONS), the field at fault, and a sentence."""

from __future__ import annotations

from dataclasses import dataclass

from matchgate.codes import REASONS, Code


@dataclass(frozen=True)
class Rejection:
    reason: str
    field: str | None
    message: str

    def __post_init__(self) -> None:
        if self.reason not in REASONS:
            raise ValueError(f"unknown rejection reason {self.reason!r}")

    @property
    def code(self) -> Code:
        return REASONS[self.reason][0]
