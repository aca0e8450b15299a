"""USPS Publication 28 vocabularies: street suffixes (appendix C1, in data/), directionals,
secondary unit designators (appendix C2) and ordinal street names."""

from __future__ import annotations

import re
from functools import cache

from matchgate.standardize.text import read_table

DIRECTIONALS: dict[str, str] = {
    "NORTH": "N", "SOUTH": "S", "EAST": "E", "WEST": "W", "N": "N", "S": "S", "E": "E", "W": "W",
    "NORTHEAST": "NE", "NORTHWEST": "NW", "SOUTHEAST": "SE", "SOUTHWEST": "SW",
    "NE": "NE", "NW": "NW", "SE": "SE", "SW": "SW",
}
# Appendix C2, with the informal spellings met in practice. "#" and NO are designators too.
UNIT_DESIGNATORS: dict[str, str] = {
    "APARTMENT": "APT", "APT": "APT", "APTS": "APT", "AP": "APT", "APPT": "APT",
    "BASEMENT": "BSMT", "BSMT": "BSMT", "BUILDING": "BLDG", "BLDG": "BLDG", "BLD": "BLDG",
    "DEPARTMENT": "DEPT", "DEPT": "DEPT", "FLOOR": "FL", "FL": "FL", "FLR": "FL",
    "FRONT": "FRNT", "FRNT": "FRNT", "HANGAR": "HNGR", "HANGER": "HNGR", "HNGR": "HNGR",
    "KEY": "KEY", "LOBBY": "LBBY", "LBBY": "LBBY", "LOT": "LOT", "LOWER": "LOWR", "LOWR": "LOWR",
    "OFFICE": "OFC", "OFC": "OFC", "PENTHOUSE": "PH", "PH": "PH", "PIER": "PIER", "REAR": "REAR",
    "ROOM": "RM", "RM": "RM", "SIDE": "SIDE", "SLIP": "SLIP", "SPACE": "SPC", "SPC": "SPC",
    "SP": "SPC", "STOP": "STOP", "SUITE": "STE", "STE": "STE", "SUIT": "STE", "TRAILER": "TRLR",
    "TRLR": "TRLR", "UNIT": "UNIT", "UPPER": "UPPR", "UPPR": "UPPR", "#": "#", "NO": "#",
    "NUM": "#", "NUMBER": "#", "PMB": "PMB",
}
# Designators that need no number: on their own they are the unit ("123 Main St Rear").
STANDALONE_UNITS: frozenset[str] = frozenset({"BSMT", "FRNT", "LBBY", "LOWR", "OFC", "PH", "REAR",
                                              "SIDE", "UPPR"})

_ONES = ["", "FIRST", "SECOND", "THIRD", "FOURTH", "FIFTH", "SIXTH", "SEVENTH", "EIGHTH",
         "NINTH", "TENTH", "ELEVENTH", "TWELFTH", "THIRTEENTH", "FOURTEENTH", "FIFTEENTH",
         "SIXTEENTH", "SEVENTEENTH", "EIGHTEENTH", "NINETEENTH"]
_TENS = {"TWENTY": 20, "THIRTY": 30, "FORTY": 40, "FIFTY": 50, "SIXTY": 60, "SEVENTY": 70,
         "EIGHTY": 80, "NINETY": 90}
_TENS_ORD = {"TWENTIETH": 20, "THIRTIETH": 30, "FORTIETH": 40, "FIFTIETH": 50, "SIXTIETH": 60,
             "SEVENTIETH": 70, "EIGHTIETH": 80, "NINETIETH": 90}
_ORDINAL_DIGITS = re.compile(r"^(\d+)(ST|ND|RD|TH|D)$")


@cache
def street_suffixes() -> dict[str, str]:
    """Appendix C1: every written form (AVENUE, AV, AVEN...) to its standard (AVE)."""
    return {written: standard for _primary, written, standard in read_table(
        "usps_street_suffixes.csv")}


def ordinal_suffix(n: int) -> str:
    if n % 100 in (11, 12, 13):
        return "TH"
    return {1: "ST", 2: "ND", 3: "RD"}.get(n % 10, "TH")


def ordinal(n: int) -> str:
    """5 -> 5TH, 22 -> 22ND, 113 -> 113TH."""
    return f"{n}{ordinal_suffix(n)}"


def _word_ordinal(words: list[str]) -> tuple[int, int] | None:
    """(value, words used) for a spelled ordinal at the start of words, else None."""
    if not words:
        return None
    first = words[0]
    if first in _ONES[1:]:
        return _ONES.index(first), 1
    if first in _TENS_ORD:
        return _TENS_ORD[first], 1
    if first in _TENS and len(words) > 1 and words[1] in _ONES[1:10]:
        return _TENS[first] + _ONES.index(words[1]), 2
    parts = first.split("-")
    if len(parts) == 2 and parts[0] in _TENS and parts[1] in _ONES[1:10]:
        return _TENS[parts[0]] + _ONES.index(parts[1]), 1
    return None


def normalize_ordinals(words: list[str]) -> list[str]:
    """FIFTH -> 5TH, TWENTY FIRST -> 21ST, 2D / 2ND / 2 ND -> 2ND, 21th -> 21ST."""
    out: list[str] = []
    i = 0
    while i < len(words):
        spelled = _word_ordinal(words[i:])
        match = _ORDINAL_DIGITS.match(words[i])
        if spelled is not None:
            out.append(ordinal(spelled[0]))
            i += spelled[1]
        elif match:
            out.append(ordinal(int(match.group(1))))
            i += 1
        elif (words[i].isdigit() and i + 1 < len(words)
              and words[i + 1] in ("ST", "ND", "RD", "TH")):
            out.append(ordinal(int(words[i])))
            i += 2
        else:
            out.append(words[i])
            i += 1
    return out


def directional(text: str) -> str:
    """NORTH -> N, NORTH EAST / N E / NORTH-EAST -> NE; unknown text is returned as is."""
    squashed = text.replace("-", "").replace(" ", "")
    if squashed in DIRECTIONALS:
        return DIRECTIONALS[squashed]
    words = [DIRECTIONALS.get(w, w) for w in text.replace("-", " ").split()]
    joined = "".join(words)
    return DIRECTIONALS.get(joined, " ".join(words))


def street_type(text: str) -> str:
    """Every word through appendix C1: AVENUE -> AVE, COUNTY ROAD -> COUNTY RD."""
    table = street_suffixes()
    return " ".join(table.get(w, w) for w in text.split())
