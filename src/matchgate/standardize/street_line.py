"""One street line taken apart with usaddress and put back together in USPS form.

usaddress.parse labels every token; labels are grouped here by part, so a repeated label (two
unit designators: "APT 4 UNIT 5") does not fail as usaddress.tag would. Only labelled parts are
rewritten: a street type inside a street name ("PARK" in "PARK AVE") is left alone.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache

import usaddress

from matchgate.standardize.units import unit_id
from matchgate.standardize.usps import (
    UNIT_DESIGNATORS,
    directional,
    normalize_ordinals,
    street_type,
)

_STRIP = ",.;:"
_HOUSE_WORDS = {"ONE": "1", "TWO": "2", "THREE": "3", "FOUR": "4", "FIVE": "5", "SIX": "6",
                "SEVEN": "7", "EIGHT": "8", "NINE": "9", "TEN": "10"}
_NAME_WORDS = {"SAINT": "ST", "MOUNT": "MT", "FORT": "FT"}
_BOX_GROUPS = {"RR": "RR", "RURAL ROUTE": "RR", "RURAL RTE": "RR", "RT": "RR", "RTE": "RR",
               "ROUTE": "RR", "HC": "HC", "HIGHWAY CONTRACT": "HC", "STAR ROUTE": "HC"}
_LEADING_NUMBER = re.compile(r"^(\d{1,6})\s+(\D.*)$")
PLACEHOLDER_HOUSE = "100"
_INITIAL_DOTS = re.compile(r"(?<=\b[A-Z])\.(?=[A-Z]\b)")  # S.W. -> SW., P.O. -> PO.
_OTHER_DOTS = re.compile(r"\.(?!\d)")
# A unit designator spelled out before its number ("APARTMENT 1A") is abbreviated before tagging:
# usaddress reads "1 OAK STREET APARTMENT 1A" as a city and a state, while "APT 1A" it knows.
_LONG_DESIGNATOR = re.compile(
    r"\b(" + "|".join(word for word, abbr in UNIT_DESIGNATORS.items()
                      if len(word) > len(abbr) and abbr.isalpha() and abbr != "UNIT")
    + r")(?=\s+#?\s*[A-Z]?\d)")
# More than a screening part's requests (screening.PART), so the second parse of a line is found.
LINES_REMEMBERED = 16384
_UNIT_LABELS = ("OccupancyType", "OccupancyIdentifier", "SubaddressType", "SubaddressIdentifier")


@dataclass(frozen=True)
class StreetLine:
    house: str | None = None
    street: str | None = None
    street_name: str | None = None
    unit: str | None = None
    po_box: str | None = None
    city: str | None = None
    state: str | None = None
    zip_code: str | None = None

    def with_house(self, house: str) -> StreetLine:
        """The same line with another house number (dataclasses.replace costs five times
        as much, and a load calls this for most of its street lines)."""
        return StreetLine(house, self.street, self.street_name, self.unit, self.po_box,
                          self.city, self.state, self.zip_code)


def _labelled(line: str) -> tuple[dict[str, list[str]], str | None]:
    """Tokens grouped by label, and the unit tokens in their order in the line."""
    parts: dict[str, list[str]] = defaultdict(list)
    unit: list[str] = []
    for token, label in usaddress.parse(line):
        text = token.strip(_STRIP)
        if text:
            parts[label].append(text)
            if label in _UNIT_LABELS:
                unit.append(text)
    return parts, " ".join(unit) or None


def _join(parts: dict[str, list[str]], *labels: str) -> str | None:
    words = [w for label in labels for w in parts.get(label, [])]
    return " ".join(words) or None


def _house(parts: dict[str, list[str]]) -> str | None:
    number = "".join(_HOUSE_WORDS.get(w, w) for w in
                     parts.get("AddressNumberPrefix", []) + parts.get("AddressNumber", []))
    suffix = "".join(parts.get("AddressNumberSuffix", []))
    if "/" in suffix:
        number = f"{number}-{suffix}"
    elif suffix:
        number = f"{number}{suffix}"
    if not any(ch.isdigit() for ch in number):
        return None
    if number.isdigit():
        return number.lstrip("0") or "0"
    return number.replace(" ", "")


def _street_name(parts: dict[str, list[str]]) -> str | None:
    words = [w for token in parts.get("StreetName", []) for w in token.replace(".", " ").split()]
    words = [_NAME_WORDS.get(w, w) for w in normalize_ordinals(words)]
    if (len(words) == 1 and words[0].isdigit() and parts.get("StreetNamePostType")
            and not parts.get("StreetNamePreType")):
        words = normalize_ordinals([words[0], "TH"])
    return " ".join(words) or None


def _street(parts: dict[str, list[str]], name: str | None) -> str | None:
    pre_dir = _join(parts, "StreetNamePreDirectional")
    pre_type = _join(parts, "StreetNamePreModifier", "StreetNamePreType")
    post_type = _join(parts, "StreetNamePostType")
    post_dir = _join(parts, "StreetNamePostDirectional")
    pieces = [directional(pre_dir) if pre_dir else None,
              street_type(pre_type) if pre_type else None, name,
              street_type(post_type) if post_type else None,
              _join(parts, "StreetNamePostModifier"),
              directional(post_dir) if post_dir else None]
    return " ".join(p for p in pieces if p) or None


def _box(parts: dict[str, list[str]]) -> tuple[str | None, str | None]:
    """(po_box number, rural-route line) from the USPS box labels."""
    box_id = _join(parts, "USPSBoxID")
    if box_id is not None:
        box_id = box_id.replace(" ", "").replace("#", "")
        box_id = (box_id.lstrip("0") or "0") if box_id.isdigit() else box_id
    group = _join(parts, "USPSBoxGroupType")
    if group is None:
        return box_id, None
    route = " ".join(p for p in (_BOX_GROUPS.get(group, group), _join(parts, "USPSBoxGroupID"),
                                 "BOX" if box_id else None, box_id) if p)
    return None, route


@lru_cache(maxsize=LINES_REMEMBERED)
def parse_street_line(line: str | None, whole_line: bool = False) -> StreetLine:
    """Parse an upper-case ASCII street line; with whole_line, also read city, state and ZIP.

    Most lines differ only by their house number, so a line that starts with a plain number is
    parsed with a fixed placeholder number (cached per rest of line) and the number is put back;
    if usaddress does not read the placeholder as the house number, the line is parsed as is.
    The last lines are remembered as they came: screening parses each request's line for the
    gate and again, a part of the batch later, to standardize it.
    """
    if not line:
        return StreetLine()
    if "." in line:  # both patterns need a dot
        line = _OTHER_DOTS.sub(" ", _INITIAL_DOTS.sub("", line))
    line = line.strip()
    line = _LONG_DESIGNATOR.sub(lambda m: UNIT_DESIGNATORS[m.group(1)], line)
    match = _LEADING_NUMBER.match(line)
    if match:
        templated = _parse(f"{PLACEHOLDER_HOUSE} {match.group(2)}", whole_line)
        if templated.house == PLACEHOLDER_HOUSE:
            number = match.group(1).lstrip("0") or "0"
            return templated.with_house(number)
    return _parse(line, whole_line)


@lru_cache(maxsize=262144)
def _parse(line: str, whole_line: bool) -> StreetLine:
    try:
        parts, unit_text = _labelled(line)
    except Exception:  # usaddress on junk: nothing could be read, which is an honest answer
        return StreetLine()
    name = _street_name(parts)
    po_box, route = _box(parts)
    street = _street(parts, name) or route
    return StreetLine(
        house=_house(parts),
        street=street,
        street_name=name,
        unit=unit_id(unit_text),
        po_box=po_box if name is None else None,
        city=_join(parts, "PlaceName") if whole_line else None,
        state=_join(parts, "StateName") if whole_line else None,
        zip_code=_join(parts, "ZipCode") if whole_line else None,
    )
