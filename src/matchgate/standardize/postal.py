"""States to USPS codes, ZIP codes to ZIP5, city names to one spelling."""

from __future__ import annotations

import re
from functools import cache, lru_cache

import us

from matchgate.standardize.text import clean, to_text

_MILITARY = {"AA": "AA", "AE": "AE", "AP": "AP", "ARMEDFORCESAMERICAS": "AA",
             "ARMEDFORCESEUROPE": "AE", "ARMEDFORCESPACIFIC": "AP"}
_EXTRA_NAMES = {"WASHINGTONDC": "DC", "DISTRICTOFCOLUMBIA": "DC", "DC": "DC"}
_FLOAT_ZERO = re.compile(r"^(\d+)\.0+$")

# City words that are written both ways; the spelled-out form is what USPS city names use.
_CITY_WORDS = {"ST": "SAINT", "STE": "SAINTE", "MT": "MOUNT", "FT": "FORT", "PT": "POINT",
               "HTS": "HEIGHTS", "SPGS": "SPRINGS", "BCH": "BEACH", "TWP": "TOWNSHIP",
               "VLG": "VILLAGE", "JCT": "JUNCTION", "CTY": "CITY"}
_CITY_LEADING = {"N": "NORTH", "S": "SOUTH", "E": "EAST", "W": "WEST"}


@cache
def _state_table() -> dict[str, str]:
    table: dict[str, str] = dict(_MILITARY)
    table.update(_EXTRA_NAMES)
    for state in [*us.states.STATES_AND_TERRITORIES, us.states.DC]:
        for spelling in (state.abbr, state.name, state.ap_abbr):
            if spelling:
                table[_state_key(spelling)] = state.abbr
    return table


def _state_key(text: str) -> str:
    return (clean(text) or "").replace(" ", "")


@lru_cache(maxsize=4096)
def state_code(value: str | None) -> str | None:
    """Two-letter USPS code for a code, a name or an AP abbreviation ("Ill."); else None."""
    if not value:
        return None
    return _state_table().get(_state_key(value))


@lru_cache(maxsize=65536)
def zip5(value: str | None) -> str | None:
    """Five digits from ZIP, ZIP+4 (hyphenated or 9 digits) or a ZIP stored as a number that lost
    its leading zeros ("2134" -> "02134", "601" -> "00601"); None when no ZIP can be read."""
    text = to_text(value)
    if text is None:
        return None
    text = text.replace(" ", "")
    floated = _FLOAT_ZERO.match(text)
    if floated:
        text = floated.group(1)
    head = text.split("-", 1)[0] if "-" in text else text
    if not head.isdigit() or not head.isascii():
        return None
    if "-" in text or len(head) <= 5:
        return head.zfill(5) if 3 <= len(head) <= 5 else None
    if len(head) in (7, 8, 9):
        return head.zfill(9)[:5]
    return None


@lru_cache(maxsize=65536)
def city_name(value: str | None) -> str | None:
    """Upper-case city with abbreviated words spelled out: ST LOUIS -> SAINT LOUIS,
    N LAS VEGAS -> NORTH LAS VEGAS, FT WORTH -> FORT WORTH."""
    text = clean(value)
    if text is None:
        return None
    words = text.split()
    if len(words) > 1 and words[0] in _CITY_LEADING:
        words[0] = _CITY_LEADING[words[0]]
    if len(words) > 1:
        words = [_CITY_WORDS.get(w, w) for w in words]
    return " ".join(words)
