"""Keeping taxpayer identifiers out of the audit log.

The log is read by oversight and kept for years, so its details must not hold a full TIN or a
name in clear. A TIN is written as `tin_ref(tin)`: a keyed hash (HMAC-SHA256) that lets someone
holding the key check whether two events concern the same TIN, plus the last four digits that
staff use to talk about a case. Without the key, the 10^9 possible TINs cannot be tried.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any, NoReturn

from matchgate.errors import InputError, MatchgateError

AUDIT_KEY_ENV = "MATCHGATE_AUDIT_KEY"
MIN_KEY_BYTES = 16
TIN_REF = re.compile(r"tinref:[0-9a-f]{32}:[0-9]{4}")
#: a standalone 9-digit token or an SSN-style 3-2-4 group: how a TIN looks inside free text
TIN_SHAPED = re.compile(r"(?<![\w-])(?:\d{9}|\d{3}-\d{2}-\d{4})(?![\w-])")
TIN_KEYS = ("tin", "ssn", "itin")
PERSONAL_KEYS = ("first_name", "middle_name", "last_name", "full_name", "date_of_birth")


class SensitiveDetail(MatchgateError):
    """An audit event's details would hold a TIN, a name or a birth date in clear."""

    code = "sensitive_audit_detail"
    status = 500


TIN_SEPARATORS = re.compile(r"[\s-]")
NINE_DIGITS = re.compile(r"[0-9]{9}")


def normalize_tin(tin: str) -> str:
    if len(tin) == 9 and tin.isascii() and tin.isdigit():
        return tin  # the usual case, as stored: nine ASCII digits
    digits = TIN_SEPARATORS.sub("", tin)
    if not NINE_DIGITS.fullmatch(digits):
        raise InputError("a TIN has nine digits (hyphens and spaces are ignored)")
    return digits


def tin_ref(tin: str, *, key: bytes) -> str:
    """`tinref:<first 128 bits of HMAC-SHA256(key, tin) in hex>:<last four digits>`."""
    digits = normalize_tin(tin)
    mac = hmac.new(key, digits.encode("ascii"), hashlib.sha256).hexdigest()[:32]
    return f"tinref:{mac}:{digits[-4:]}"


def env_key() -> bytes | None:
    """The audit key from MATCHGATE_AUDIT_KEY, if set."""
    value = os.environ.get(AUDIT_KEY_ENV)
    if not value:
        return None
    key = value.encode("utf-8")
    if len(key) < MIN_KEY_BYTES:
        raise InputError(f"{AUDIT_KEY_ENV} must be at least {MIN_KEY_BYTES} bytes long")
    return key


PLAIN, TIN_KEY, PERSONAL_KEY = 0, 1, 2
_SCALARS = (int, float, bool, type(None))


@lru_cache(maxsize=4096)
def _key_kind(key: str) -> int:
    lowered = key.lower()
    if any(lowered == k or lowered.endswith("_" + k) for k in TIN_KEYS):
        return TIN_KEY
    if any(lowered.endswith(k) for k in PERSONAL_KEYS):
        return PERSONAL_KEY
    return PLAIN


def _check_named(parent: str, key: str, value: Any, kind: int) -> None:
    """A value under a TIN key or a name key."""
    if value is None:
        return
    if kind == TIN_KEY:
        if not (isinstance(value, str) and TIN_REF.fullmatch(value)):
            raise SensitiveDetail(f"audit details {f'{parent}.{key}'!r}: a TIN must be "
                                  "written as tin_ref(tin)")
    else:
        raise SensitiveDetail(f"audit details {f'{parent}.{key}'!r}: names and birth dates "
                              "are not logged")


def _tin_in(text: str) -> bool:
    """Whether the text holds a TIN-shaped token and is not a tin_ref."""
    return TIN_SHAPED.search(text) is not None and TIN_REF.fullmatch(text) is None


def _tin_shaped(path: str) -> NoReturn:
    raise SensitiveDetail(f"audit details {path!r}: the text holds a TIN-shaped number; "
                          "write TINs as tin_ref(tin)")


def check_details(value: Any, path: str = "details") -> None:
    """Raise SensitiveDetail if `value` (an event's details, walked to any depth) holds a TIN or
    a name in clear: a TIN-named key (tin, ssn, itin, *_tin ...) whose value is not a tin_ref,
    any value under a name key (first_name, last_name, ..., date_of_birth), or a string holding a
    TIN-shaped token (nine digits standing alone, or 123-45-6789)."""
    # Strings and scalars inside a dict or a list are checked in its loop (the usual case: a
    # path is made only to raise or to go deeper).
    if isinstance(value, str):
        if _tin_in(value):
            _tin_shaped(path)
    elif isinstance(value, dict | Mapping):
        for key, item in value.items():
            name = key if type(key) is str else str(key)
            kind = _key_kind(name)
            if kind != PLAIN:
                _check_named(path, name, item, kind)
            elif type(item) is str:
                if _tin_in(item):
                    _tin_shaped(f"{path}.{name}")
            elif type(item) not in _SCALARS:
                check_details(item, f"{path}.{name}")
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            if type(item) is str:
                if _tin_in(item):
                    _tin_shaped(f"{path}[{index}]")
            elif type(item) not in _SCALARS:
                check_details(item, f"{path}[{index}]")
