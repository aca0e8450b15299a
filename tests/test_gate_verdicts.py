"""gate/verdicts.py judges each distinct value once: its first problem must be check_request's
first, and its key dedupe_key's, for any request (well formed, hostile, half empty)."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import AGREEMENT, COURT, COURT_MANIFEST, MANIFEST, TODAY
from matchgate.gate import check_request, dedupe_key
from matchgate.gate import verdicts as verdicts_module
from matchgate.gate.verdicts import Verdicts, for_batch

# per field, values that pass its checks, then values that fail them in different ways
VALID: dict[str, list[str | None]] = {
    "first_name": ["Maria", "MARIA", " maria ", "José", "FNU", "Mary-Ann", "O'Neil"],
    "middle_name": ["Elena", "E.", "E", None],
    "last_name": ["Garcia Lopez", "garcia lopez", "GARCIA-LOPEZ", "Smith", "D'Angelo"],
    "suffix": ["Jr", "JR.", "III", None],
    "date_of_birth": ["1985-03-12", "03/12/1985", "3/12/85", "19850312", None],
    "tin": ["123-45-6789", "123456789", "912-70-1234", None],
    "street": ["1418 N Main St", "1418 n main street", "22 Elm Street Apt 4", "100 Beach Road",
               "77 Oak Ave, Houston TX 77002"],
    "unit": ["Apt 2B", "#4", "Unit 4", None],
    "city": ["Springfield", "springfield", "Houston"],
    "state": ["IL", "Illinois", "il", "TX"],
    "zip": ["62702", "62702-1234", "627021234", "77002"],
    "tax_periods": ["2022;2023", "2021-2023", "2022, 2023"],
    "statutory_authority": ["8 U.S.C. 1253(a)(1)", "8 USC § 1253(a)(1)"],
    "reason": ["Final order of removal entered in case A123456789; address needed to execute "
               "the order.", "Removal order A123456789: current residence needed"],
    "case_number": ["A123456789", "A-123-456-789", "a12345678"],
    "order_date": ["2024-05-01", "05/01/2024"],
}
INVALID: dict[str, list[str | None]] = {
    "first_name": ["LNU", "Unknown", "N/A", "XXX", "J0hn", "123", None],
    "middle_name": ["NMN", "ZZZ", "4"],
    "last_name": ["FNU", "LNU", "None", "!!!", None],
    "suffix": ["Esq", "???"],
    "date_of_birth": ["2030-01-01", "1850-01-01", "1985-02-30", "yesterday"],
    "tin": ["000-12-3456", "666-12-3456", "123-00-4567", "123-45-0000", "912-40-1234", "12345",
            "abc"],
    "street": ["PO Box 12", "Unknown", "N/A", "12345 Unknown", "Main St", "3RD TER",
               "County Jail", "1 Processing Center", "RR 2 Box 15", "General Delivery", None],
    "unit": ["Unknown", "???"],
    "city": ["Same", "Unknown", "X", "123", "NA", None],
    "state": ["ZZ", "AE", "Washington DC", "", None],
    "zip": ["00000", "99999", "6270", "20500", "12207", "abcde", None],
    "tax_periods": ["1900", "2099", "soon", None],
    "statutory_authority": ["26 USC 6103", None],
    "reason": ["investigation", "law enforcement purposes", "N/A", "See attached",
               "unknown unknown unknown", None],
    "case_number": ["B123", "", None],
    "order_date": ["2030-01-01", "1940-01-01", "never", None],
}
FIELDS = list(VALID)
# a field is drawn from its invalid values once in BAD_ONE_IN: many requests then reach the
# address checks, and many have more than one problem
BAD_ONE_IN = 10


def _request(draw: st.DrawFn) -> dict[str, str | None]:
    fields: dict[str, str | None] = {"request_id": "R"}
    for field in FIELDS:
        bad = draw(st.sampled_from([False] * (BAD_ONE_IN - 1) + [True]))
        fields[field] = draw(st.sampled_from(INVALID[field] if bad else VALID[field]))
    return fields


requests = st.composite(_request)


@settings(max_examples=600, deadline=None)
@given(batch=st.lists(requests(), min_size=1, max_size=8))
def test_first_problem_and_key_are_those_of_check_request_and_dedupe_key(
        batch: list[dict[str, str | None]]) -> None:
    """One Verdicts over a whole batch (its tables filled by the earlier requests) gives each
    request check_request's first problem and dedupe_key's key."""
    for agreement, manifest in ((AGREEMENT, MANIFEST), (COURT, COURT_MANIFEST)):
        verdicts = Verdicts(manifest, agreement, TODAY)
        for fields in batch:
            parsed = verdicts.parsed(fields)
            expected = check_request(fields, manifest, agreement, today=TODAY)
            assert verdicts.first_problem(fields, parsed) == (expected[0] if expected else None)
            assert verdicts.key(fields, parsed) == dedupe_key(fields)


def test_a_basis_the_agreement_does_not_allow_rejects_every_request() -> None:
    manifest = MANIFEST.model_copy(update={"legal_basis": "6103(z)(9)"})
    verdicts = Verdicts(manifest, AGREEMENT, TODAY)
    fields = {f: values[0] for f, values in VALID.items()}
    problem = verdicts.first_problem(fields, verdicts.parsed(fields))
    assert problem is not None and problem.reason == "legal_basis_not_in_agreement"
    assert problem == check_request(fields, manifest, AGREEMENT, today=TODAY)[0]


def test_tables_start_again_past_their_size(monkeypatch: pytest.MonkeyPatch) -> None:
    """A batch of unique values never grows a table past REMEMBERED; answers stay right."""
    monkeypatch.setattr(verdicts_module, "REMEMBERED", 5)
    verdicts = Verdicts(MANIFEST, AGREEMENT, TODAY)
    base = {f: values[0] for f, values in VALID.items()}
    for n in range(40):
        fields = {**base, "case_number": f"A{100000000 + n}", "tin": f"123-45-{1000 + n}",
                  "first_name": ["Maria", "N/A", "Ann"][n % 3]}
        parsed = verdicts.parsed(fields)
        expected = check_request(fields, MANIFEST, AGREEMENT, today=TODAY)
        assert verdicts.first_problem(fields, parsed) == (expected[0] if expected else None)
        assert verdicts.key(fields, parsed) == dedupe_key(fields)
    assert all(len(table) <= 5 for _, table in verdicts.legal)
    assert len(verdicts.norm) <= 5


def test_one_verdicts_per_basis_agreement_and_day() -> None:
    first = for_batch(MANIFEST, AGREEMENT, TODAY)
    assert for_batch(MANIFEST, AGREEMENT, TODAY) is first
    assert for_batch(MANIFEST, AGREEMENT, date(2026, 1, 16)) is not first
    assert for_batch(COURT_MANIFEST, COURT, TODAY) is not first
    assert len(verdicts_module._KEPT) <= verdicts_module.KEPT  # the oldest went
    assert for_batch(MANIFEST, AGREEMENT, TODAY) is not first
