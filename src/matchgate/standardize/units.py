"""Secondary units: the identifier without its designator, so that "Apt 4B", "#4B", "Unit 4-B",
"Apartment 4 B" and "4B" all give "4B"."""

from __future__ import annotations

import re
from functools import lru_cache

from matchgate.standardize.text import ascii_upper
from matchgate.standardize.usps import STANDALONE_UNITS, UNIT_DESIGNATORS

_SPLIT = re.compile(r"[^A-Z0-9#]+|(#)")
_ORDINAL = re.compile(r"^(\d+)(ST|ND|RD|TH)$")


def _identifier(tokens: list[str]) -> str:
    text = "".join(tokens)
    ordinal = _ORDINAL.match(text)
    if ordinal:
        text = ordinal.group(1)
    if text.isdigit():
        text = text.lstrip("0") or "0"
    return text


@lru_cache(maxsize=65536)
def unit_id(value: str | None) -> str | None:
    """The unit identifier of a unit text, designators removed; groups separated by designators
    stay apart ("BLDG 5 APT 201" -> "5 201"); a lone no-number designator is the unit itself
    ("Rear" -> "REAR"); None when nothing is left."""
    text = ascii_upper(value)
    if text is None:
        return None
    tokens = [t for t in _SPLIT.split(text) if t]
    groups: list[list[str]] = [[]]
    standalone: list[str] = []
    for tok in tokens:
        designator = UNIT_DESIGNATORS.get(tok)
        if designator is None:
            groups[-1].append(tok)
            continue
        if designator in STANDALONE_UNITS:
            standalone.append(designator)
        if groups[-1]:
            groups.append([])
    ids = [_identifier(g) for g in groups if g]
    if ids:
        return " ".join(ids)
    return " ".join(standalone) or None
