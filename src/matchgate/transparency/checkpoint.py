"""Signed checkpoints (signed tree heads) in the C2SP tlog-checkpoint and signed-note formats.

A checkpoint's body is three lines, the log's origin, the tree size in decimal and the root in
base64, then optional extension lines (here `Timestamp: <ISO 8601 UTC>`):

    matchgate.example/audit
    42
    <base64 of the 32-byte root>

A signed checkpoint is that body as a signed note (see `note`), signed under the origin as key
name.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from matchgate.transparency.errors import VerificationError
from matchgate.transparency.merkle import HASH_SIZE
from matchgate.transparency.note import KEY_NAME, open_note, sign_note, split_note

TIMESTAMP_PREFIX = "Timestamp: "

_DECIMAL = re.compile(r"0|[1-9][0-9]{0,19}")


@dataclass(frozen=True)
class Checkpoint:
    """A log's claim that its tree of tree_size leaves has this root."""

    origin: str
    tree_size: int
    root: bytes
    timestamp: datetime | None = None
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not KEY_NAME.fullmatch(self.origin):
            raise ValueError(f"origin {self.origin!r} must be non-empty, without spaces or '+'")
        if self.tree_size < 0:
            raise ValueError(f"tree size {self.tree_size} is negative")
        if len(self.root) != HASH_SIZE:
            raise ValueError(f"root must be {HASH_SIZE} bytes, got {len(self.root)}")
        if self.timestamp is not None and self.timestamp.utcoffset() is None:
            raise ValueError("timestamp must carry a time zone")
        for line in self.extensions:
            if not line or "\n" in line or line.startswith(TIMESTAMP_PREFIX):
                raise ValueError(f"extension line {line!r} is empty, multi-line or a timestamp")

    def to_text(self) -> str:
        """The note body: origin, size, base64 root, extension lines, each ending in a newline."""
        lines = [self.origin, str(self.tree_size), base64.b64encode(self.root).decode("ascii")]
        if self.timestamp is not None:
            stamp = self.timestamp.astimezone(UTC).isoformat().replace("+00:00", "Z")
            lines.append(TIMESTAMP_PREFIX + stamp)
        lines.extend(self.extensions)
        return "".join(line + "\n" for line in lines)

    @classmethod
    def from_text(cls, text: str) -> Checkpoint:
        """Parse a note body (not a signed note: see `verify_checkpoint`)."""
        if not text.endswith("\n"):
            raise VerificationError("checkpoint body does not end with a newline")
        lines = text[:-1].split("\n")
        if len(lines) < 3:
            raise VerificationError(f"checkpoint body has {len(lines)} lines, at least 3 expected")
        origin, size, root_b64, *rest = lines
        if not KEY_NAME.fullmatch(origin):
            raise VerificationError(f"checkpoint origin {origin!r} is empty or has spaces or '+'")
        if not _DECIMAL.fullmatch(size):
            raise VerificationError(f"checkpoint tree size {size!r} is not a decimal number")
        timestamp, extensions = _parse_extensions(rest)
        return cls(origin, int(size), _decode_root(root_b64), timestamp, extensions)


def _decode_root(text: str) -> bytes:
    try:
        root = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise VerificationError(f"checkpoint root {text!r} is not base64: {exc}") from None
    if len(root) != HASH_SIZE or base64.b64encode(root).decode("ascii") != text:
        raise VerificationError(f"checkpoint root {text!r} is not a canonical {HASH_SIZE}-byte "
                                "hash in base64")
    return root


def _parse_extensions(lines: list[str]) -> tuple[datetime | None, tuple[str, ...]]:
    timestamp: datetime | None = None
    others: list[str] = []
    for line in lines:
        if not line:
            raise VerificationError("checkpoint body has an empty extension line")
        if not line.startswith(TIMESTAMP_PREFIX):
            others.append(line)
            continue
        if timestamp is not None:
            raise VerificationError("checkpoint body has two timestamps")
        try:
            timestamp = datetime.fromisoformat(line[len(TIMESTAMP_PREFIX):])
        except ValueError:
            raise VerificationError(f"checkpoint timestamp {line!r} is not ISO 8601") from None
        if timestamp.utcoffset() is None:
            raise VerificationError(f"checkpoint timestamp {line!r} has no time zone")
    return timestamp, tuple(others)


def sign_checkpoint(checkpoint: Checkpoint, private_key: Ed25519PrivateKey) -> str:
    """The checkpoint as a signed note, signed under its origin as key name."""
    return sign_note(checkpoint.to_text(), checkpoint.origin, private_key)


def verify_checkpoint(text: str, public_key: Ed25519PublicKey, *,
                      origin: str | None = None) -> Checkpoint:
    """Check the signature of public_key on a signed checkpoint and return the checkpoint.

    The key name is the checkpoint's origin; pass `origin` to also insist on which log it is.
    """
    body, _ = split_note(text)
    name = body.partition("\n")[0]
    if origin is not None and name != origin:
        raise VerificationError(f"checkpoint is for log {name!r}, expected {origin!r}")
    if not KEY_NAME.fullmatch(name):
        raise VerificationError(f"checkpoint origin {name!r} is empty or has spaces or '+'")
    try:
        return Checkpoint.from_text(open_note(text, name, public_key))
    except VerificationError as exc:
        raise VerificationError(f"checkpoint for {name!r}: {exc.message}") from None
