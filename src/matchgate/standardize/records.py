"""Whole records and tables: the entry points used by master loading and intake.

standardize_table works on distinct values: each input part (given names, surname, suffix, street
line, unit, city, state, ZIP, date of birth, TIN) is dictionary-encoded, every distinct value is
standardized once, and the results are taken back to the rows by index with Arrow compute. A
master file repeats given names, surnames, cities and ZIPs many times, so the Python work grows
with the number of distinct values, not of rows. It gives exactly what standardize_record gives.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import pyarrow as pa
import pyarrow.compute as pc

from matchgate.columns import STD_COLUMNS
from matchgate.standardize.addresses import standardize_address
from matchgate.standardize.dates import standardize_dob, standardize_tin
from matchgate.standardize.names import given_columns, standardize_name, surname_columns
from matchgate.standardize.postal import city_name, state_code, zip5
from matchgate.standardize.street_line import PLACEHOLDER_HOUSE, parse_street_line
from matchgate.standardize.suffixes import suffix_of
from matchgate.standardize.text import ascii_upper, clean, to_text
from matchgate.standardize.units import unit_id

__all__ = [
    "standardize_dob",
    "standardize_record",
    "standardize_table",
    "standardize_tin",
]

_SEP = "\x1f"
Outputs = Sequence[str | None]


def standardize_record(row: Mapping[str, object]) -> dict[str, str | None]:
    """Every STD_COLUMNS entry for one request or master row (missing keys count as empty)."""
    out: dict[str, str | None] = {}
    out.update(standardize_name(row.get("first_name"), row.get("middle_name"),
                                row.get("last_name"), row.get("suffix")))
    out.update(standardize_address(row.get("street"), row.get("unit"), row.get("city"),
                                   row.get("state"), row.get("zip")))
    out["std_dob"] = standardize_dob(row.get("date_of_birth"))
    out["std_tin"] = standardize_tin(row.get("tin"))
    return {name: out[name] for name in STD_COLUMNS}


def _string_column(table: pa.Table, name: str) -> pa.Array:
    if name not in table.column_names:
        return pa.nulls(table.num_rows, type=pa.string())
    column = table.column(name).combine_chunks()
    if pa.types.is_dictionary(column.type):
        column = column.dictionary_decode()
    if pa.types.is_string(column.type):
        return column
    if name == "tin" and pa.types.is_integer(column.type):
        return pc.utf8_lpad(pc.cast(column, pa.string()), 9, "0")
    return pc.cast(column, pa.string())


def _map_distinct(values: pa.Array, fn: Callable[[str | None], Outputs],
                  width: int) -> list[pa.Array]:
    """fn applied once per distinct value (and once to None), taken back to every row."""
    encoded = pc.dictionary_encode(values)
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.combine_chunks()
    distinct = encoded.dictionary.to_pylist()
    results = [fn(v) for v in distinct] + [fn(None)]
    indices = pc.fill_null(encoded.indices, len(distinct))
    return [pc.take(pa.array([r[k] for r in results], type=pa.string()), indices)
            for k in range(width)]


def _joined(*columns: pa.Array) -> pa.Array:
    return pc.binary_join_element_wise(*[pc.fill_null(c, "") for c in columns], _SEP)


def _blank(column: pa.Array) -> pa.Array:
    trimmed = pc.utf8_trim_whitespace(pc.fill_null(column, ""))
    return pc.equal(trimmed, "")


def _name_arrays(table: pa.Table) -> dict[str, pa.Array]:
    given_key = _joined(_string_column(table, "first_name"), _string_column(table, "middle_name"))
    given = _map_distinct(given_key, lambda k: given_columns(*_split(k, 2)), 8)
    surname = _map_distinct(_string_column(table, "last_name"),
                            lambda v: surname_columns(ascii_upper(v)), 6)
    (field_suffix,) = _map_distinct(_string_column(table, "suffix"),
                                    lambda v: (suffix_of(clean(v)),), 1)
    names = ("std_first", "std_first_canon", "std_first_phonetic", "std_middle",
             "std_middle_initial")
    out = dict(zip(names, given[:5], strict=True))
    out.update(zip(("std_last", "std_last_first", "std_last_second", "std_last_phonetic"),
                   surname[:4], strict=True))
    out["std_suffix"] = pc.coalesce(field_suffix, surname[4], given[5])
    out["std_first_metaphone"] = given[6]
    out["std_last_metaphone"] = surname[5]
    out["std_first_related"] = given[7]
    return out


def _split(key: str | None, width: int) -> list[str | None]:
    parts: list[str | None] = list((key or "").split(_SEP))
    parts += [None] * (width - len(parts))
    return [ascii_upper(p) for p in parts[:width]]


def _line_outputs(key: str | None) -> Outputs:
    street, flag = (key or _SEP).split(_SEP)
    line = parse_street_line(ascii_upper(street), flag == "1")
    return (line.house, line.street, line.street_name, line.unit, line.po_box,
            city_name(line.city), state_code(line.state), zip5(line.zip_code))


# A street line of a house number and plain words, single-spaced (most lines of a master file).
# parse_street_line reads such a line as its rest after a placeholder number, and puts the
# number back when usaddress took the placeholder for the house number; the same is done here
# for a whole table at once, so that the distinct rests are parsed, not the distinct lines (a
# batch of 100,000 master rows holds some 34,000 distinct lines and 5,000 rests). The pattern
# is narrower than the parser's own (its number, whitespace and non-digit), so that upper-casing
# is all ascii_upper does to such a line and nothing the parser rewrites touches the number.
_PLAIN_LINE = r"^(?P<number>[0-9]{1,6}) (?P<rest>[A-Za-z][A-Za-z0-9]*(?: [A-Za-z0-9]+)*)$"


def _line_arrays(street: pa.Array, flag: pa.Array) -> list[pa.Array]:
    """_line_outputs of every row's street line and whole-line flag: a plain line from its
    rest's parse with its own number put back, any other line parsed whole."""
    parts = pc.extract_regex(street, _PLAIN_LINE)
    plain = parts.is_valid()
    templated_line = pc.binary_join_element_wise(PLACEHOLDER_HOUSE, pc.ascii_upper(
        parts.field("rest")), " ")
    templated = _map_distinct(pc.if_else(plain, _joined(templated_line, flag), None),
                              _line_outputs, 8)
    taken = pc.fill_null(pc.equal(templated[0], PLACEHOLDER_HOUSE), False)
    whole = _map_distinct(pc.if_else(taken, None, _joined(street, flag)), _line_outputs, 8)
    number = pc.utf8_ltrim(parts.field("number"), "0")
    house = pc.if_else(pc.equal(number, ""), "0", number)
    return [pc.if_else(taken, house if k == 0 else templated[k], whole[k]) for k in range(8)]


def _address_arrays(table: pa.Table) -> dict[str, pa.Array]:
    city, state, zip_code = (_string_column(table, n) for n in ("city", "state", "zip"))
    whole = pc.and_(pc.and_(_blank(city), _blank(state)), _blank(zip_code))
    flag = pc.if_else(whole, "1", "0")
    line = _line_arrays(_string_column(table, "street"), flag)
    (field_unit,) = _map_distinct(_string_column(table, "unit"),
                                  lambda v: (unit_id(ascii_upper(v)),), 1)
    (field_city,) = _map_distinct(city, lambda v: (city_name(to_text(v)),), 1)
    (field_state,) = _map_distinct(state, lambda v: (state_code(to_text(v)),), 1)
    (field_zip,) = _map_distinct(zip_code, lambda v: (zip5(to_text(v)),), 1)
    return {
        "std_house": line[0], "std_street": line[1], "std_street_name": line[2],
        "std_unit": pc.coalesce(field_unit, line[3]),
        "std_city": pc.if_else(whole, line[5], field_city),
        "std_state": pc.if_else(whole, line[6], field_state),
        "std_zip5": pc.if_else(whole, line[7], field_zip),
        "std_po_box": line[4],
    }


def standardize_table(table: pa.Table) -> pa.Table:
    """The table with every STD_COLUMNS column appended (string, None for missing values)."""
    arrays = _name_arrays(table)
    arrays.update(_address_arrays(table))
    (arrays["std_dob"],) = _map_distinct(_string_column(table, "date_of_birth"),
                                         lambda v: (standardize_dob(v),), 1)
    (arrays["std_tin"],) = _map_distinct(_string_column(table, "tin"),
                                         lambda v: (standardize_tin(v),), 1)
    for name in STD_COLUMNS:
        if name in table.column_names:
            table = table.drop_columns([name])
        table = table.append_column(name, arrays[name])
    return table
