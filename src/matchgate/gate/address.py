"""The address gate: an address must be one a person can live at. It is parsed and standardized,
needs a house number and a street name, a US state, a city, and a real ZIP code of that state
that is not a single organisation's; placeholder text, PO boxes (unless the agreement allows
them) and facilities named without a street address are rejected. Pure functions (zipcodes is
an offline table)."""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import us
import zipcodes

from matchgate.agreement import AddressGate
from matchgate.gate.rejection import Rejection, reject
from matchgate.gate.text import (
    has_strong_word,
    informative,
    is_not_applicable,
    is_placeholder,
    tokens,
)
from matchgate.standardize import ParsedAddress, parse_address

Fields = Mapping[str, str | None]
ADDRESS_FIELDS = ("street", "unit", "city", "state", "zip")

_ORDINAL = re.compile(r"\d+(?:ST|ND|RD|TH)")
_ZIP = re.compile(r"^(\d{5})(?:[\s-]?\d{4})?$")
_PO_BOX = re.compile(
    r"^(?:P\s*O\s*B(?:OX)?|POST\s*OFFICE\s*(?:BOX|DRAWER)?|POSTAL\s*BOX|P\s*O|BOX|BX|PMB|"
    r"LOCKBOX|CALLER|DRAWER|FIRM\s*CALLER)\s*(?:NO|NUMBER)?\s*\d"
    r"|\b(?:P\s*O\s*BOX|POST\s*OFFICE\s*BOX|PMB|P\s*M\s*B)\s*\d"
    r"|^GENERAL\s+DELIVERY\b")
FACILITY_WORDS = frozenset({
    "JAIL", "DETENTION", "DETENTIONS", "CORRECTIONAL", "CORRECTIONS", "PRISON", "PENITENTIARY",
    "STOCKADE", "BRIG", "GAOL", "LOCKUP", "RIKERS", "INCARCERATED", "INMATE",
})
FACILITY_PHRASES = (("PROCESSING", "CENTER"), ("PROCESSING", "CENTRE"), ("SERVICE", "PROCESSING"),
                    ("HOLDING", "FACILITY"), ("HOLDING", "CENTER"), ("FEDERAL", "CORRECTIONAL"),
                    ("JUVENILE", "HALL"), ("ICE", "FACILITY"), ("COUNTY", "JAIL"))
MILITARY_STATES = frozenset({"AA", "AE", "AP"})


@lru_cache(maxsize=1)
def _state_codes() -> dict[str, str]:
    """Every spelling of a US state or territory (code, name), and the military codes, to the
    USPS code; key is upper-case letters only."""
    table = {code: code for code in MILITARY_STATES}
    for s in [*us.states.STATES_AND_TERRITORIES, us.states.DC]:
        for spelling in (s.abbr, s.name):
            table["".join(tokens(spelling))] = s.abbr
    table["WASHINGTONDC"] = "DC"
    return table


@lru_cache(maxsize=1024)
def parsed_address(street: str | None, unit: str | None, city: str | None, state: str | None,
                   zip_text: str | None) -> ParsedAddress:
    """parse_address, remembered for the last requests (the duplicate key and the address
    gate parse the same address one after the other)."""
    return parse_address(street, unit, city, state, zip_text)


def state_code(value: str | None) -> str | None:
    if not value:
        return None
    return _state_codes().get("".join(tokens(value)))


@lru_cache(maxsize=1)
def _zip_table() -> dict[str, dict[str, Any]]:
    """Every ZIP code of the offline table to its first record (zipcodes.matching scans the
    whole list on every call: a third of a millisecond)."""
    table: dict[str, dict[str, Any]] = {}
    for record in zipcodes.list_all():
        table.setdefault(record["zip_code"], record)
    return table


def zip_record(zip5: str) -> dict[str, Any] | None:
    return _zip_table().get(zip5)


def is_po_box(street: str | None, parsed: ParsedAddress) -> bool:
    if parsed.kind == "po_box" or parsed.po_box:
        return True
    return bool(street) and bool(_PO_BOX.search(" ".join(tokens(street))))


def is_facility(street: str | None) -> bool:
    toks = tokens(street)
    if any(t in FACILITY_WORDS for t in toks):
        return True
    pairs = set(itertools.pairwise(toks))
    return any(p in pairs for p in FACILITY_PHRASES)


def _house_number(parsed: ParsedAddress) -> str | None:
    """The house number, when the parse found one that holds a digit and is not an ordinal
    street name taken for a number ("3RD TER" has no house number)."""
    house = parsed.house
    if not house or not any(ch.isdigit() for ch in house) or _ORDINAL.fullmatch(house):
        return None
    return house


def _has_street_name(street: str, parsed: ParsedAddress) -> bool:
    """A street name was parsed, or the line holds a word beyond the house number that is not
    only a suffix, directional or unit word (a parser can take BEACH in "BEACH ROAD" for a
    suffix)."""
    if parsed.street_name:
        return True
    toks = tokens(street)
    if toks and parsed.house and toks[0] == "".join(tokens(parsed.house)):
        toks = toks[1:]
    return any(any(ch.isalpha() for ch in t) and not _ORDINAL.fullmatch(t) for t in
               informative(toks, structure=True)) or any(_ORDINAL.fullmatch(t) for t in toks)


def line_problems(street: str, parsed: ParsedAddress, options: AddressGate
                  ) -> list[Rejection]:
    """The problems of a street line (given, and parsed with the rest of its address)."""
    if is_placeholder(street, structure=True):
        return [reject("address_placeholder", "street", f"'{street}'")]
    if not options.allow_po_box and is_po_box(street, parsed):
        return [reject("address_po_box", "street", f"'{street}'")]
    house = _house_number(parsed)
    if house is None and is_facility(street):
        return [reject("address_facility", "street", f"'{street}'")]
    out = []
    if house is None and not is_po_box(street, parsed):
        out.append(reject("address_no_house_number", "street", f"'{street}'"))
    if not _has_street_name(street, parsed) and not is_po_box(street, parsed):
        out.append(reject("address_no_street", "street", f"'{street}'"))
    return out


def zip_problems(zip_text: str | None, state: str | None, parsed: ParsedAddress,
                 options: AddressGate) -> list[Rejection]:
    """The problems of the ZIP code (`state`: the address's USPS state code, or None); the
    parsed address is read only when the ZIP field is empty."""
    if zip_text is None:
        if parsed.zip5 is None:
            return [reject("zip_invalid", "zip", "the ZIP code is missing")]
        zip_text = parsed.zip5
    m = _ZIP.match(zip_text)
    record = zip_record(m.group(1)) if m else None
    if record is None:
        return [reject("zip_invalid", "zip", f"'{zip_text}'")]
    if options.reject_inactive_zip and not record.get("active", True):
        return [reject("zip_invalid", "zip", f"'{zip_text}' is no longer in use")]
    out = []
    if state is not None and record["state"] != state:
        out.append(reject("zip_state_mismatch", "zip",
                          f"{record['zip_code']} is in {record['state']}, not {state}"))
    kind = record.get("zip_code_type")
    if options.reject_unique_zip and kind == "UNIQUE":
        out.append(reject("zip_unique", "zip",
                          f"{record['zip_code']} is the ZIP code of one organisation"))
    elif options.reject_po_box_only_zip and kind == "PO BOX":
        out.append(reject("zip_po_box_only", "zip",
                          f"{record['zip_code']} serves PO boxes only"))
    return out


def _city_placeholder(city: str) -> bool:
    """Only words that always mean "no data" (towns are called Street, Home and House)."""
    toks = tokens(city)
    return (not any(ch.isalpha() for ch in city) or has_strong_word(toks)
            or is_not_applicable(city) or all(t in {"NA", "SAME", "X"} for t in toks))


def city_problems(city: str) -> list[Rejection]:
    """The problem of a city given in its own field."""
    return [reject("address_placeholder", "city", f"'{city}'")] if _city_placeholder(city) else []


def state_problems(state: str | None, state_text: str | None) -> list[Rejection]:
    """The problem of the state (`state`: its USPS code, None when it is not one)."""
    if state is not None:
        return []
    return [reject("state_invalid", "state",
                   f"'{state_text}'" if state_text else "the state is missing")]


def check_address(fields: Fields, options: AddressGate) -> list[Rejection]:
    """Every problem of the request's address, the most telling first: the street line's, the
    city's, the state's, then the ZIP code's."""
    street, city, state_text, zip_text = (fields.get("street"), fields.get("city"),
                                          fields.get("state"), fields.get("zip"))
    if street is None:
        detail = "" if any(fields.get(f) for f in ADDRESS_FIELDS) else "no address field is set"
        return [reject("address_missing", "street", detail)]
    parsed = parsed_address(street, fields.get("unit"), city, state_text, zip_text)
    out = line_problems(street, parsed, options)
    whole_line = city is None and state_text is None and zip_text is None
    if city is not None:
        out.extend(city_problems(city))
    elif not (whole_line and parsed.city):
        out.append(reject("city_missing", "city"))
    state = state_code(state_text) if state_text is not None else state_code(parsed.state)
    out.extend(state_problems(state, state_text))
    out.extend(zip_problems(zip_text, state, parsed, options))
    return out
