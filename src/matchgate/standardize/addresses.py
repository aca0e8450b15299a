"""Address parsing (usaddress) and standardization (USPS Publication 28).

parse_address never raises: junk gives kind "unknown" with whatever could be read, and house and
street_name are None when absent, so that the address gate can judge the address honestly.
kind is "po_box" for a PO box (po_box holds its number), "street" when a street name was found
(house may still be None: the gate requires it), "unknown" otherwise; rural-route and highway
contract boxes ("RR 2 BOX 15") are "unknown" with the route in street.
"""

from __future__ import annotations

from dataclasses import dataclass

from matchgate.standardize.postal import city_name, state_code, zip5
from matchgate.standardize.street_line import StreetLine, parse_street_line
from matchgate.standardize.text import ascii_upper, to_text
from matchgate.standardize.units import unit_id


@dataclass(frozen=True)
class ParsedAddress:
    """An address taken apart. `kind` is "street", "po_box" or "unknown"."""

    kind: str
    house: str | None
    street: str | None
    street_name: str | None
    unit: str | None
    city: str | None
    state: str | None
    zip5: str | None
    po_box: str | None = None


def _kind(line: StreetLine) -> str:
    if line.po_box is not None:
        return "po_box"
    if line.street_name is not None:
        return "street"
    return "unknown"


def parse_address(street: object, unit: object, city: object, state: object,
                  zip_code: object) -> ParsedAddress:
    """Parse one address; the street line may carry the unit and, when the city, state and ZIP
    fields are all empty, the city, state and ZIP too."""
    city_text, state_text, zip_text = to_text(city), to_text(state), to_text(zip_code)
    whole_line = city_text is None and state_text is None and zip_text is None
    line = parse_street_line(ascii_upper(street), whole_line)
    if whole_line:
        city_text, state_text, zip_text = line.city, line.state, line.zip_code
    return ParsedAddress(
        kind=_kind(line),
        house=line.house,
        street=line.street,
        street_name=line.street_name,
        unit=unit_id(ascii_upper(unit)) or line.unit,
        city=city_name(city_text),
        state=state_code(state_text),
        zip5=zip5(zip_text),
        po_box=line.po_box,
    )


def standardize_address(street: object, unit: object, city: object, state: object,
                        zip_code: object) -> dict[str, str | None]:
    """The STD_ADDRESS_COLUMNS of one address."""
    p = parse_address(street, unit, city, state, zip_code)
    return address_columns(p)


def address_columns(p: ParsedAddress) -> dict[str, str | None]:
    return {
        "std_house": p.house,
        "std_street": p.street,
        "std_street_name": p.street_name,
        "std_unit": p.unit,
        "std_city": p.city,
        "std_state": p.state,
        "std_zip5": p.zip5,
        "std_po_box": p.po_box,
    }
