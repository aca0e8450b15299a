"""A rejection: the stable machine-readable reason (a key of codes.REASONS), the field it concerns
and a sentence for people."""

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


def reject(reason: str, field: str | None, detail: str = "") -> Rejection:
    """A rejection whose message is the reason's sentence, with the detail after it."""
    sentence = REASONS[reason][1]
    return Rejection(reason, field, f"{sentence}: {detail}" if detail else sentence)
