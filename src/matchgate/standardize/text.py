"""Text clean-up common to names and addresses."""

from __future__ import annotations

import re

from unidecode import unidecode

_NON_ALNUM = re.compile(r"[^A-Z0-9 ]+")
_SPACES = re.compile(r"\s+")


def clean(value: object) -> str | None:
    """Upper-case ASCII, punctuation to spaces, single spaces; None for empty."""
    if value is None:
        return None
    text = str(value)
    text = unidecode(text).upper()
    text = _NON_ALNUM.sub(" ", text)
    text = _SPACES.sub(" ", text).strip()
    return text or None
