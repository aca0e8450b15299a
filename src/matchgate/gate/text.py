"""Text helpers of the gate: tokens of a value, placeholder and filler detection.

A placeholder is text that stands where information should be ("Unknown", "N/A", "Failed to
Provide", "Don't Care 12345", "same as above", "XXXX", "00000"). Rather than a list of exact
strings, the detector removes everything that carries no information (filler words, lone street
suffixes and designators, junk numbers such as repeated digits or runs like 12345) and calls the
value a placeholder when nothing informative is left, or when it holds a word that only ever
means "no data" (UNKNOWN, REFUSED, HOMELESS, N/A, ...).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from functools import lru_cache

from unidecode import unidecode

_APOSTROPHES = re.compile(r"['\u2019`´]")
_NON_ALNUM = re.compile(r"[^A-Z0-9]+")
_NOT_APPLICABLE = re.compile(r"(?<![A-Z0-9])N\s*/\s*[AP](?![A-Z0-9])")

# Words that only ever mean "no data here".
STRONG_WORDS = frozenset({
    "UNKNOWN", "UNKOWN", "UNKNWN", "UNK", "UNKN", "UKNOWN", "REFUSED", "DECLINED", "HOMELESS",
    "TRANSIENT", "UNHOUSED", "UNSHELTERED", "NULL", "NIL", "NONE", "TBD", "TBA", "UNDISCLOSED",
    "UNAVAILABLE", "UNDELIVERABLE", "NFA", "NOADDRESS", "NONAME", "WITHHELD", "REDACTED",
    "PLACEHOLDER", "DUMMY", "FAKE", "ASDF", "QWERTY", "NOTAPPLICABLE", "DECEASED", "DEPORTED",
})
# Words that carry no information by themselves ("Failed to Provide", "same as above").
WEAK_WORDS = frozenset({
    "NA", "N", "A", "X", "NO", "NOT", "NOPE", "SAME", "ADDRESS", "ADDR", "ADD", "ADRESS",
    "PROVIDE", "PROVIDED", "FAILED", "FAIL", "GIVEN", "GIVE", "DONT", "DO", "CARE", "AVAILABLE",
    "APPLICABLE", "APPL", "SEE", "FILE", "ON", "ABOVE", "BELOW", "RECORD", "RECORDS", "AS",
    "TO", "THE", "OF", "IN", "AT", "AND", "OR", "IS", "BY", "PER", "CUSTODY", "VARIOUS",
    "PENDING", "TEST", "SAMPLE", "ANY", "ANYWHERE", "NOWHERE", "SOMEWHERE", "WHERE", "FIXED",
    "ABODE", "RESIDENCE", "STREET", "HOME", "HOUSE", "LIVES", "LIVING", "LOCATION", "ENTERED",
    "ATTACHED", "INFO", "INFORMATION", "DATA", "BLANK", "EMPTY", "MISSING", "NEED", "NEEDED",
    "REQUIRED", "CONFIDENTIAL", "OTHER", "ETC", "DK", "NK", "NR", "NS", "UNSURE",
})
# Street-line words that are not a street name by themselves.
STRUCTURE_WORDS = frozenset({
    "ST", "STR", "AVE", "AV", "AVENUE", "RD", "ROAD", "DR", "DRIVE", "LN", "LANE", "BLVD",
    "WAY", "CT", "COURT", "PL", "PLACE", "CIR", "HWY", "PKWY", "TER", "TRL", "N", "S", "E",
    "W", "NE", "NW", "SE", "SW", "NORTH", "SOUTH", "EAST", "WEST", "APT", "UNIT", "STE",
    "SUITE", "RM", "FL", "FLOOR", "BLDG", "LOT", "NUM", "NUMBER", "NO", "HASH",
})


@lru_cache(maxsize=1 << 16)
def tokens(value: str | None) -> tuple[str, ...]:
    """Upper-case ASCII alphanumeric tokens; apostrophes vanish ("Don't" -> DONT). Remembered:
    the checks of one request read the same value's tokens several times, and names, cities and
    states recur across a batch."""
    if not value:
        return ()
    text = _APOSTROPHES.sub("", unidecode(value).upper())
    return tuple(t for t in _NON_ALNUM.split(text) if t)


def is_junk_number(token: str) -> bool:
    """Digits that carry no information: all one digit (0, 000, 11111), or a run of at least
    four ascending or descending digits (1234, 12345, 98765)."""
    if not token.isdigit():
        return False
    if len(set(token)) == 1:
        return len(token) >= 3 or token == "0"
    if len(token) < 4:
        return False
    steps = {int(b) - int(a) for a, b in itertools.pairwise(token)}
    return steps in ({1}, {-1})


def is_repeated_letters(token: str) -> bool:
    """XXX, ZZZZ, XXXXX: one letter three or more times."""
    return len(token) >= 3 and token.count(token[0]) == len(token) and token.isalpha()


def is_not_applicable(value: str | None) -> bool:
    return bool(value) and bool(_NOT_APPLICABLE.search(unidecode(value or "").upper()))


@lru_cache(maxsize=1 << 16)
def _strong(token: str) -> bool:
    return token in STRONG_WORDS or is_repeated_letters(token)


@lru_cache(maxsize=1 << 16)
def has_strong_word(toks: tuple[str, ...]) -> bool:
    return any(map(_strong, toks)) or "".join(toks) in STRONG_WORDS


@lru_cache(maxsize=1 << 16)
def _uninformative(token: str) -> bool:
    return (token in WEAK_WORDS or token in STRONG_WORDS or is_junk_number(token)
            or is_repeated_letters(token))


def informative(toks: Sequence[str], *, structure: bool = False) -> list[str]:
    """The tokens that carry information; `structure` also drops lone street-line words."""
    if structure:
        return [t for t in toks if not _uninformative(t) and t not in STRUCTURE_WORDS]
    return list(itertools.filterfalse(_uninformative, toks))


@lru_cache(maxsize=1 << 16)
def is_placeholder(value: str | None, *, structure: bool = False) -> bool:
    """True when the value is filler standing where information should be."""
    if value is None:
        return False
    toks = tokens(value)
    if not toks or is_not_applicable(value) or has_strong_word(toks):
        return True
    return not informative(toks, structure=structure)
