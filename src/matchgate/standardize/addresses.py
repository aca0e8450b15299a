"""Address parsing and standardization (minimal first version; see issue 3 for the full one)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from matchgate.standardize.text import clean

_ZIP = re.compile(r"^(\d{5})(?:-?\d{4})?$")


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


def parse_address(street: object, unit: object, city: object, state: object,
                  zip_code: object) -> ParsedAddress:
    line = clean(street) or ""
    parts = line.split(" ")
    house = parts[0] if parts and parts[0][:1].isdigit() else None
    rest = parts[1:] if house else parts
    zip_text = (str(zip_code).strip() if zip_code is not None else "")
    zmatch = _ZIP.match(zip_text)
    return ParsedAddress(
        kind="street" if house and rest else "unknown",
        house=house,
        street=" ".join(rest) or None,
        street_name=rest[0] if rest else None,
        unit=clean(unit),
        city=clean(city),
        state=clean(state),
        zip5=zmatch.group(1) if zmatch else None,
    )


def standardize_address(street: object, unit: object, city: object, state: object,
                        zip_code: object) -> dict[str, str | None]:
    p = parse_address(street, unit, city, state, zip_code)
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
