"""Text clean-up common to names and addresses: ASCII, upper case, single spaces."""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

from unidecode import unidecode

_NON_ALNUM = re.compile(r"[^A-Z0-9 ]+")
_SPACES = re.compile(r"\s+")


def to_text(value: object) -> str | None:
    """The value as stripped text; None for None, NaN and blank strings."""
    if value is None:
        return None
    if isinstance(value, float) and value != value:
        return None
    text = str(value).strip()
    return text or None


def ascii_upper(value: object) -> str | None:
    """Transliterated to ASCII (unidecode), upper case, whitespace collapsed; None when empty."""
    text = to_text(value)
    if text is None:
        return None
    if not text.isascii():
        text = unidecode(text)
    text = _SPACES.sub(" ", text.upper()).strip()
    return text or None


def clean(value: object) -> str | None:
    """Upper-case ASCII, every character but letters and digits to a space, single spaces."""
    text = ascii_upper(value)
    if text is None:
        return None
    text = _SPACES.sub(" ", _NON_ALNUM.sub(" ", text)).strip()
    return text or None


def squash(text: str) -> str:
    """Collapse runs of whitespace and strip."""
    return _SPACES.sub(" ", text).strip()


@cache
def read_table(name: str) -> tuple[tuple[str, ...], ...]:
    """Rows of a packaged CSV data file (standardize/data/<name>), header skipped."""
    text = resources.files("matchgate.standardize").joinpath("data", name).read_text("utf-8")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return tuple(tuple(cell.strip() for cell in line.split(",")) for line in lines[1:])
