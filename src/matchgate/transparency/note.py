"""Signed notes (C2SP signed-note, as golang.org/x/mod/sumdb/note): a text, a blank line, and one
signature line per signer:

    — <key name> <base64(key id (4 bytes) || Ed25519 signature of the text)>

The key id is the first four bytes of SHA-256(key name || "\\n" || 0x01 || raw public key).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from matchgate.transparency.errors import VerificationError

SIGNATURE_PREFIX = "\u2014 "  # em dash, space
ED25519_ALGORITHM = b"\x01"
KEY_ID_SIZE = 4
MAX_SIGNATURES = 100
KEY_NAME = re.compile(r"[^\s+]+")


def key_id(name: str, public_key: Ed25519PublicKey) -> bytes:
    """The 4-byte id of an Ed25519 key under a key name."""
    raw = public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return hashlib.sha256(name.encode() + b"\n" + ED25519_ALGORITHM + raw).digest()[:KEY_ID_SIZE]


def sign_note(text: str, name: str, private_key: Ed25519PrivateKey) -> str:
    """The text as a signed note carrying one signature under the key name."""
    if not text.endswith("\n"):
        raise ValueError("a note's text must end with a newline")
    if not KEY_NAME.fullmatch(name):
        raise ValueError(f"key name {name!r} must be non-empty, without spaces or '+'")
    kid = key_id(name, private_key.public_key())
    signature = base64.b64encode(kid + private_key.sign(text.encode())).decode("ascii")
    return f"{text}\n{SIGNATURE_PREFIX}{name} {signature}\n"


def _parse_signature_line(line: str) -> tuple[str, bytes]:
    name, _, sig = line.removeprefix(SIGNATURE_PREFIX).partition(" ")
    try:
        raw = base64.b64decode(sig, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if not line.startswith(SIGNATURE_PREFIX) or not KEY_NAME.fullmatch(name) or \
            len(raw) <= KEY_ID_SIZE:
        raise VerificationError(f"malformed signature line {line!r:.120}")
    return name, raw


def split_note(text: str) -> tuple[str, list[tuple[str, bytes]]]:
    """The text and the (key name, key id || signature) of each signature line."""
    if not text.endswith("\n") or "\n\n" not in text:
        raise VerificationError("not a signed note: no blank line before the signatures, or no "
                                "final newline")
    cut = text.rindex("\n\n")
    lines = text[cut + 2:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise VerificationError(f"signed note has {len(lines)} signature lines, at most "
                                f"{MAX_SIGNATURES} accepted")
    return text[:cut + 1], [_parse_signature_line(line) for line in lines]


def open_note(text: str, name: str, public_key: Ed25519PublicKey) -> str:
    """Check that the note carries a valid signature by public_key under name; return its text."""
    body, signatures = split_note(text)
    kid = key_id(name, public_key)
    mine = [raw[KEY_ID_SIZE:] for n, raw in signatures if n == name and raw[:KEY_ID_SIZE] == kid]
    if not mine:
        found = ", ".join(f"{n}/{raw[:KEY_ID_SIZE].hex()}" for n, raw in signatures)
        raise VerificationError(f"note carries no signature by {name}/{kid.hex()}; "
                                f"signatures found: {found}")
    for signature in mine:
        try:
            public_key.verify(signature, body.encode())
        except InvalidSignature:
            continue
        return body
    raise VerificationError(f"the signature by {name}/{kid.hex()} does not verify: the note was "
                            "altered or the signature forged")
