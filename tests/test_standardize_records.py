"""Dates, TINs, whole records and tables (the table path must equal the record path)."""

from __future__ import annotations

from datetime import date, datetime

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matchgate.columns import MASTER_COLUMNS, STD_COLUMNS
from matchgate.standardize import (
    standardize_dob,
    standardize_record,
    standardize_table,
    standardize_tin,
)


@pytest.mark.parametrize(("value", "expected"), [
    ("1990-03-04", "1990-03-04"), ("1990-3-4", "1990-03-04"), ("1990-03-04T00:00:00", "1990-03-04"),
    ("19900304", "1990-03-04"), ("03/04/1990", "1990-03-04"), ("3/4/1990", "1990-03-04"),
    ("3-4-1990", "1990-03-04"), (date(1990, 3, 4), "1990-03-04"),
    (datetime(1990, 3, 4, 12, 0), "1990-03-04"), (" 03/04/1990 ", "1990-03-04"),
    ("1990-02-30", None), ("13/01/1990", None), ("19901304", None), ("not a date", None),
    ("", None), (None, None), ("1990", None), ("04.03", None),
])
def test_dates_of_birth(value: object, expected: str | None) -> None:
    assert standardize_dob(value) == expected


@pytest.mark.parametrize(("value", "expected"), [
    ("3/4/26", "2026-03-04"), ("3/4/27", "1927-03-04"), ("12/31/99", "1999-12-31"),
    ("1/1/00", "2000-01-01"),
])
def test_two_digit_years_never_fall_in_the_future(value: str, expected: str) -> None:
    assert standardize_dob(value, reference_year=2026) == expected


@pytest.mark.parametrize(("value", "expected"), [
    ("123-45-6789", "123456789"), ("123 45 6789", "123456789"), ("123456789", "123456789"),
    ("912-70-1234", "912701234"), (12345678, "012345678"), ("12345678", None),
    ("1234567890", None), ("12345678X", None), ("", None), (None, None), ("१२३४५६७८९", None),
])
def test_tins(value: object, expected: str | None) -> None:
    assert standardize_tin(value) == expected


def _row(**overrides: object) -> dict[str, object]:
    row: dict[str, object] = {
        "first_name": "Bill", "middle_name": None, "last_name": "García-López Jr.",
        "suffix": None, "date_of_birth": "03/04/1990", "tin": "123-45-6789",
        "street": "123 North Main Street Apt 4B", "unit": None, "city": "St. Louis",
        "state": "Missouri", "zip": "63101-1234",
    }
    row.update(overrides)
    return row


def test_record_has_every_standard_column() -> None:
    out = standardize_record(_row())
    assert tuple(out) == STD_COLUMNS
    assert out["std_first_canon"] == "WILLIAM"
    assert (out["std_last"], out["std_suffix"]) == ("GARCIA LOPEZ", "JR")
    assert (out["std_house"], out["std_street"], out["std_unit"]) == ("123", "N MAIN ST", "4B")
    assert (out["std_city"], out["std_state"], out["std_zip5"]) == ("SAINT LOUIS", "MO", "63101")
    assert (out["std_dob"], out["std_tin"]) == ("1990-03-04", "123456789")


def test_record_with_missing_keys() -> None:
    out = standardize_record({"first_name": "Ann", "last_name": "Lee"})
    assert out["std_first"] == "ANN"
    assert out["std_street"] is None and out["std_tin"] is None


def test_table_appends_standard_columns_and_keeps_the_input() -> None:
    table = pa.table({c: [r[c] for r in (_row(), _row(first_name="Peggy"))]
                      for c in _row()})
    out = standardize_table(table)
    assert out.column_names == list(table.column_names) + list(STD_COLUMNS)
    assert out.column("std_first_canon").to_pylist() == ["WILLIAM", "MARGARET"]
    assert all(out.schema.field(c).type == pa.string() for c in STD_COLUMNS)


def test_table_with_typed_and_missing_columns() -> None:
    table = pa.table({
        "first_name": pa.array(["Ann", None]).dictionary_encode(),
        "last_name": ["Lee", "Ng"],
        "date_of_birth": pa.array([date(1990, 3, 4), None], type=pa.date32()),
        "tin": pa.array([12345678, None], type=pa.int64()),
        "street": ["1 Main St", None],
        "zip": pa.array([2134, None], type=pa.int64()),
    })
    out = standardize_table(table)
    assert out.column("std_dob").to_pylist() == ["1990-03-04", None]
    assert out.column("std_tin").to_pylist() == ["012345678", None]
    assert out.column("std_zip5").to_pylist() == ["02134", None]
    assert out.column("std_first").to_pylist() == ["ANN", None]
    assert out.column("std_unit").to_pylist() == [None, None]


def test_table_restandardized_replaces_its_standard_columns() -> None:
    table = pa.table({c: [v] for c, v in _row().items()})
    once = standardize_table(table)
    twice = standardize_table(once)
    assert twice.column_names == once.column_names
    assert twice.equals(once)


def test_empty_table() -> None:
    table = pa.table({c: pa.array([], type=pa.string()) for c in MASTER_COLUMNS})
    assert standardize_table(table).num_rows == 0


def test_street_line_holding_city_state_and_zip_in_a_table() -> None:
    table = pa.table({"street": ["123 Main St, Springfield, IL 62701", "9 Elm St"],
                      "city": [None, "Boston"], "state": ["", "MA"], "zip": [None, "2134"]})
    out = standardize_table(table).to_pylist()
    assert [(r["std_city"], r["std_state"], r["std_zip5"]) for r in out] == [
        ("SPRINGFIELD", "IL", "62701"), ("BOSTON", "MA", "02134")]


FIRSTS = st.sampled_from(["Bill", "José", "Mary Ann", "J.", None, "", "Peggy", "Dr. Ana"])
LASTS = st.sampled_from(["García-López", "de la Cruz", "O'Brien Jr.", "Smith", None, "Le"])
STREETS = st.sampled_from(["123 N Main St Apt 4", "PO Box 5", "Failed to Provide", None,
                           "45 W 42 St", "1 Main St, Boston MA 02134", "RR 2 Box 15"])
OPTIONAL = st.one_of(st.none(), st.text(max_size=8))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.fixed_dictionaries({
    "first_name": FIRSTS, "middle_name": st.sampled_from([None, "R.", "Lee"]),
    "last_name": LASTS, "suffix": st.sampled_from([None, "Jr", "III"]),
    "date_of_birth": st.sampled_from([None, "1990-03-04", "3/4/90", "bad"]),
    "tin": st.sampled_from([None, "123-45-6789", "12"]), "street": STREETS,
    "unit": st.sampled_from([None, "#4", "Apt 4"]), "city": st.sampled_from([None, "Boston"]),
    "state": st.sampled_from([None, "MA", "Mass."]), "zip": OPTIONAL,
}), min_size=1, max_size=12))
def test_table_path_equals_record_path(rows: list[dict[str, object]]) -> None:
    table = pa.Table.from_pylist(rows)
    out = standardize_table(table).select(list(STD_COLUMNS)).to_pylist()
    assert out == [standardize_record(r) for r in rows]


LINE_WORDS = ["Main", "ST", "apt", "4", "N", "BOX", "PO", "APARTMENT", "1st", "RR", "HIGHWAY",
              "66", "B", "FLOOR", "AND", "Boston", "MA", "02134", "#4", "St.", "1/2", "-"]
HOUSES = st.sampled_from(["", "7", "0012", "100", "000", "123456", "1234567", "12A", " 9"])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(HOUSES, st.sampled_from([" ", "  ", "\t", ""]),
                          st.lists(st.sampled_from(LINE_WORDS), min_size=1, max_size=4),
                          st.booleans()), min_size=1, max_size=20))
def test_table_street_lines_equal_the_record_path(
        lines: list[tuple[str, str, list[str], bool]]) -> None:
    """A table parses a plain line (a house number and plain words) as the rest after a
    placeholder with its number put back, and any other line whole: every street column
    equals the record path's, for plain lines, lines whose rest usaddress does not read after
    a number ("100 ST"), leading zeros, long numbers, odd spacing, punctuation, lower case,
    and whole lines (no city, state or ZIP fields)."""
    rows = [{"street": f"{house}{gap}{' '.join(words)}", "city": None if whole else "Boston",
             "state": None if whole else "MA", "zip": None if whole else "02134"}
            for house, gap, words, whole in lines]
    columns = ["std_house", "std_street", "std_street_name", "std_unit", "std_po_box",
               "std_city", "std_state", "std_zip5"]
    out = standardize_table(pa.Table.from_pylist(rows)).select(columns).to_pylist()
    assert out == [{c: standardize_record(r)[c] for c in columns} for r in rows]
