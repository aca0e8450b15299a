"""The address gate: a request's address must be a real residential address, parsed.

The 2025 process checked only that the field was not blank. Here the address must parse into a
house number and a street name, carry a real ZIP that belongs to the stated state, and be neither
placeholder text nor (unless the agreement allows it) a PO box.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache

import zipcodes

from matchgate.gate.placeholders import is_placeholder
from matchgate.gate.rejection import Rejection
from matchgate.standardize import parse_address
from matchgate.standardize.postal import state_code

ADDRESS_FIELDS = ("street", "unit", "city", "state", "zip")


@cache
def _zip_index() -> dict[str, tuple[str, str]]:
    """ZIP5 -> (state, type) for every ZIP the zipcodes package knows, built once."""
    return {z["zip_code"]: (z["state"], z["zip_code_type"]) for z in zipcodes.list_all()}


@cache
def _states() -> frozenset[str]:
    return frozenset(s for s, _ in _zip_index().values())


def check_address(fields: Mapping[str, str | None], *, allow_po_box: bool = False
                  ) -> Rejection | None:
    street, city, state, zip_code = (fields.get(f) for f in ("street", "city", "state", "zip"))
    if not any(fields.get(f) for f in ADDRESS_FIELDS):
        return Rejection("address_missing", "street", "no address was given")
    for name in ("street", "city"):
        if is_placeholder(fields.get(name)):
            return Rejection("address_placeholder", name,
                             f"'{fields.get(name)}' is placeholder text, not an address")
    if not street:
        return Rejection("address_missing", "street", "the street address is missing")
    parsed = parse_address(street, fields.get("unit"), city, state, zip_code)
    if parsed.kind == "po_box" and not allow_po_box:
        return Rejection("address_po_box", "street",
                         "a PO box is not a residential address")
    if parsed.kind == "unknown" or not parsed.street_name:
        return Rejection("address_no_street", "street", "no street name could be found")
    if not parsed.house and parsed.kind != "po_box":
        return Rejection("address_no_house_number", "street",
                         "the street address has no house number")
    if not city:
        return Rejection("city_missing", "city", "the city is missing")
    code = state_code(state)
    if code is None or code not in _states():
        return Rejection("state_invalid", "state", f"'{state}' is not a US state or territory")
    zip5 = parsed.zip5
    if zip5 is None or zip5 not in _zip_index():
        return Rejection("zip_invalid", "zip", f"'{zip_code}' is not a real ZIP code")
    zip_state, zip_type = _zip_index()[zip5]
    if zip_state != code:
        return Rejection("zip_state_mismatch", "zip",
                         f"ZIP {zip5} belongs to {zip_state}, not {code}")
    if zip_type == "UNIQUE":
        return Rejection("zip_organization", "zip",
                         f"ZIP {zip5} belongs to a single organization, not a residence")
    return None
