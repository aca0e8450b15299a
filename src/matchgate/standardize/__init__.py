"""Standardization shared by master loading and intake, so both sides are always comparable.

Public interface (stable; other parts import only these names):
- standardize_name(first, middle, last, suffix) -> dict of STD_NAME_COLUMNS
- standardize_address(street, unit, city, state, zip) -> dict of STD_ADDRESS_COLUMNS
- parse_address(street, unit, city, state, zip) -> ParsedAddress (used by the address gate)
- standardize_dob(value) -> "YYYY-MM-DD" or None
- standardize_tin(value) -> nine digits or None
- standardize_record(mapping) -> dict of every STD_COLUMNS entry
- standardize_table(pyarrow.Table) -> the table with STD_COLUMNS appended

Modules: names (given names, suffixes), surnames (compound surnames, particles), given_names
(nickname keys), phonetic, addresses and street_line (usaddress parsing), usps (Publication 28
vocabularies; appendix C1 in data/usps_street_suffixes.csv), units, postal (states, ZIP5,
cities), dates (dates of birth, TINs), records (records and tables). Every function is pure.
"""

from matchgate.standardize.addresses import ParsedAddress, parse_address, standardize_address
from matchgate.standardize.names import standardize_name
from matchgate.standardize.records import (
    standardize_dob,
    standardize_record,
    standardize_table,
    standardize_tin,
)

__all__ = [
    "ParsedAddress",
    "parse_address",
    "standardize_address",
    "standardize_dob",
    "standardize_name",
    "standardize_record",
    "standardize_table",
    "standardize_tin",
]
