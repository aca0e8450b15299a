"""Ed25519 key files for signing checkpoints: a PEM (PKCS #8) private key, its public key beside
it."""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
    load_pem_private_key,
    load_pem_public_key,
)

from matchgate.errors import InputError, NotFound

PUBLIC_KEY_SUFFIX = ".pub"


def public_key_path(private_key_path: str | Path) -> Path:
    """Where the public key of a private key file lives: same name, suffix `.pub`."""
    return Path(private_key_path).with_suffix(PUBLIC_KEY_SUFFIX)


def _write_new(path: Path, data: bytes, mode: int) -> None:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except FileExistsError:
        raise InputError(f"{path}: already exists; refusing to overwrite a key") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot create: {exc.strerror}") from None
    with os.fdopen(fd, "wb") as f:
        os.fchmod(f.fileno(), mode)
        f.write(data)


def generate_key(path: str | Path) -> Ed25519PrivateKey:
    """Create a new signing key: the private key at path (mode 0600), the public key beside it."""
    private_path = Path(path)
    public_path = public_key_path(private_path)
    if public_path == private_path:
        raise InputError(f"{path}: a private key file must not end in {PUBLIC_KEY_SUFFIX}")
    if public_path.exists():
        raise InputError(f"{public_path}: already exists; refusing to overwrite a key")
    key = Ed25519PrivateKey.generate()
    _write_new(private_path, key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8,
                                               NoEncryption()), 0o600)
    _write_new(public_path, key.public_key().public_bytes(
        Encoding.PEM, PublicFormat.SubjectPublicKeyInfo), 0o644)
    return key


def _read(path: str | Path) -> bytes:
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        raise NotFound(f"{path}: key file not found") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read key file: {exc.strerror}") from None


def load_private_key(path: str | Path) -> Ed25519PrivateKey:
    """Read an unencrypted PEM Ed25519 private key."""
    try:
        key = load_pem_private_key(_read(path), password=None)
    except (ValueError, TypeError) as exc:
        raise InputError(f"{path}: not an unencrypted PEM private key: {exc}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise InputError(f"{path}: the key is not an Ed25519 key")
    return key


def load_public_key(path: str | Path) -> Ed25519PublicKey:
    """Read a PEM Ed25519 public key."""
    try:
        key = load_pem_public_key(_read(path))
    except ValueError as exc:
        raise InputError(f"{path}: not a PEM public key: {exc}") from None
    if not isinstance(key, Ed25519PublicKey):
        raise InputError(f"{path}: the key is not an Ed25519 key")
    return key
