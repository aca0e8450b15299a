"""The legal elements of a request: each rule with requests that pass and requests that fail."""

from __future__ import annotations

from datetime import date

import pytest

from conftest import AGREEMENT, COURT, COURT_MANIFEST, MANIFEST, TODAY
from matchgate.codes import REASONS, Code
from matchgate.gate import check_request
from matchgate.gate.values import citation_key, parse_date, tin_problem

GOOD = {
    "request_id": "R1", "first_name": "Maria", "middle_name": "Elena",
    "last_name": "Garcia Lopez", "suffix": None, "date_of_birth": "1985-03-12", "tin": None,
    "street": "1418 N Main St", "unit": "Apt 2B", "city": "Springfield", "state": "IL",
    "zip": "62702", "tax_periods": "2022;2023", "case_number": "A123456789",
    "order_date": "2024-05-01", "statutory_authority": "8 U.S.C. 1253(a)(1)",
    "reason": "Subject of final order of removal in case A123456789; last known address "
              "sought to locate for removal.",
}


def reasons(**changes: str | None) -> list[str]:
    return [r.reason for r in check_request({**GOOD, **changes}, MANIFEST, AGREEMENT,
                                            today=TODAY)]


def test_good_request_passes() -> None:
    assert reasons() == []


@pytest.mark.parametrize(("field", "reason"), [
    ("first_name", "missing_first_name"), ("last_name", "missing_last_name"),
    ("tax_periods", "missing_tax_periods"), ("statutory_authority", "missing_statutory_authority"),
    ("reason", "missing_reason"), ("case_number", "missing_case_number"),
    ("order_date", "missing_order_date"), ("street", "address_missing"),
])
def test_missing_required_element(field: str, reason: str) -> None:
    assert reasons(**{field: None})[0] == reason


@pytest.mark.parametrize(("field", "good"), [
    ("tax_periods", ["2023", "2021;2022;2023", "2021-2023", "2022, 2023", "2022 2023"]),
    ("statutory_authority", ["8 USC 1253(a)(1)", "8 U.S.C. § 1253(a)(1)",
                             "8 u.s.c. sec. 1253(a)(1)", " 8 U.S.C.  1253 (a)(1) "]),
    ("case_number", ["A12345678", "A123456789", "a123456789", "A-123-456-789", "A 123 456 789"]),
    ("order_date", ["2024-05-01", "05/01/2024", "5/1/2024", "20240501", "2026-01-15"]),
    ("date_of_birth", ["1985-03-12", "03/12/1985", "3/12/85", "19850312", None]),
    ("tin", ["123-45-6789", "123456789", "912-70-1234", "900 50 0001", "999-99-9999", None]),
    ("reason", ["Final order of removal entered in case A123456789; address needed to "
                "execute the order.", "Locate subject of removal order A123456789"]),
    ("first_name", ["José", "Mary-Ann", "D'Angelo", "FNU", "J", "Nguyễn"]),
    ("last_name", ["O'Brien", "Garcia-Lopez", "de la Cruz", "Na", "Ng", "Doe"]),
])
def test_well_formed_values_pass(field: str, good: list[str | None]) -> None:
    for value in good:
        assert reasons(**{field: value}) == [], value


@pytest.mark.parametrize(("field", "reason", "bad"), [
    ("tax_periods", "invalid_tax_periods",
     ["1800", "abc", "2022;20x3", "FY2023", "3000", "2027", "2023-2021", "22;23"]),
    ("statutory_authority", "statutory_authority_not_allowed",
     ["8 U.S.C. 1326", "8 U.S.C. 1253(a)", "18 U.S.C. 1253(a)(1)", "INA 243"]),
    ("reason", "reason_too_vague",
     ["N/A", "Investigation", "law enforcement purposes", "See attached", "TBD", "immigration",
      "see file", "Official business", "Immigration investigation", "none", "xxx",
      "ongoing criminal investigation", "Same as above", "REMOVAL"]),
    ("case_number", "invalid_case_number",
     ["A12345", "123456789", "CASE-1234", "A123456789X", "A1234567890", "B123456789"]),
    ("order_date", "invalid_order_date",
     ["2030-01-01", "2024-02-30", "2026-01-16", "13/01/2024", "yesterday", "1901-01-01"]),
    ("date_of_birth", "invalid_date_of_birth",
     ["1980-02-30", "UNKNOWN", "0000-00-00", "99/99/9999", "N/A", "2027-01-01", "1850-01-01",
      "1985-13-01", "1985-04-31"]),
    ("tin", "invalid_tin",
     ["000-12-3456", "666-12-3456", "123-00-4567", "123-45-0000", "912-40-1234", "912-66-1234",
      "912-89-1234", "912-93-1234", "12345", "1234567890", "ABC-DE-FGHI", "900-70-0000"]),
    ("first_name", "invalid_name", ["12345", "J0hn", "UNKNOWN", "N/A", "XXX", "---", "NULL"]),
    ("last_name", "invalid_name", ["FNU", "LNU", "Sm1th", "None", "ZZZZ", "?"]),
    ("middle_name", "invalid_name", ["9", "UNKNOWN"]),
])
def test_malformed_values_fail(field: str, reason: str, bad: list[str]) -> None:
    for value in bad:
        assert reasons(**{field: value})[:1] == [reason], value


def test_legal_elements_come_before_the_address() -> None:
    got = reasons(case_number=None, street="Unknown")
    assert got == ["missing_case_number", "address_placeholder"]
    assert REASONS[got[0]][0] is Code.REJECTED_INSUFFICIENT


def test_every_problem_of_the_row_is_listed() -> None:
    got = reasons(tax_periods=None, reason="TBD", tin="000-00-0000", zip="00000")
    assert got == ["missing_tax_periods", "reason_too_vague", "invalid_tin", "zip_invalid"]


def test_rejections_name_field_and_give_a_sentence() -> None:
    (rej,) = check_request({**GOOD, "case_number": "A12"}, MANIFEST, AGREEMENT, today=TODAY)
    assert rej.field == "case_number" and rej.code is Code.REJECTED_INSUFFICIENT
    assert "A12" in rej.message and rej.message.startswith(REASONS[rej.reason][1])


def test_basis_not_in_agreement_rejects_the_request() -> None:
    got = check_request(GOOD, COURT_MANIFEST, AGREEMENT, today=TODAY)
    assert [r.reason for r in got] == ["legal_basis_not_in_agreement"]


def test_court_order_basis_does_not_require_removal_order_fields() -> None:
    fields = {**GOOD, "case_number": None, "order_date": None, "statutory_authority": None}
    assert check_request(fields, COURT_MANIFEST, COURT, today=TODAY) == []
    fields["reason"] = None
    assert [r.reason for r in check_request(fields, COURT_MANIFEST, COURT, today=TODAY)] == [
        "missing_reason"]


@pytest.mark.parametrize(("text", "expected"), [
    ("2024-05-01", date(2024, 5, 1)), ("5/1/24", date(2024, 5, 1)),
    ("5/1/27", date(1927, 5, 1)), ("2024-5-1T10:00:00", date(2024, 5, 1)),
    ("2024-02-30", None), ("", None), ("May 1 2024", None),
])
def test_parse_date(text: str, expected: date | None) -> None:
    assert parse_date(text, today=TODAY) == expected


def test_itin_middle_digit_ranges_exactly() -> None:
    valid = {*range(50, 66), *range(70, 89), *range(90, 93), *range(94, 100)}
    for group in range(100):
        ok = tin_problem(f"9{group % 10}0-{group:02d}-1234") is None
        assert ok == (group in valid), group


def test_ssn_areas_exactly() -> None:
    for area in range(900):
        ok = tin_problem(f"{area:03d}-12-3456") is None
        assert ok == (area not in (0, 666)), area


def test_citation_key_ignores_form() -> None:
    assert citation_key("8 U.S.C. § 1253(a)(1)") == citation_key("8 USC Section 1253(a)(1)")
    assert citation_key("8 U.S.C. 1253(a)(1)") != citation_key("8 U.S.C. 1253(a)(2)")
