"""Property tests of the gate: form does not change a verdict, and no placeholder slips through."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from matchgate.agreement import load_agreement
from matchgate.codes import Code
from matchgate.gate import check_request, dedupe_key
from matchgate.gate.values import tin_problem
from matchgate.intake import load_manifest

ROOT = Path(__file__).resolve().parents[1]
AGREEMENT = load_agreement(ROOT / "examples" / "agreement.toml")
MANIFEST = load_manifest(ROOT / "examples" / "manifest.toml")
TODAY = date(2026, 1, 15)
VALID: list[dict[str, str | None]] = [
    {"first_name": "Maria", "middle_name": "Elena", "last_name": "Garcia Lopez",
     "date_of_birth": "1985-03-12", "street": "1418 N Main St", "unit": "Apt 2B",
     "city": "Springfield", "state": "IL", "zip": "62702"},
    {"first_name": "James", "middle_name": None, "last_name": "O'Brien", "suffix": "Jr",
     "date_of_birth": "07/04/1970", "tin": "123-45-6789", "street": "22 Elm Street",
     "unit": None, "city": "Albany", "state": "NY", "zip": "12207"},
    {"first_name": "Nguyễn", "middle_name": None, "last_name": "Thi Lan", "street": "77 Oak Ave",
     "unit": "Unit 4", "city": "Houston", "state": "Texas", "zip": "77002-1234"},
]
LEGAL = {"tax_periods": "2022;2023", "case_number": "A123456789", "order_date": "2024-05-01",
         "statutory_authority": "8 U.S.C. 1253(a)(1)",
         "reason": "Final order of removal entered in case A123456789; current residential "
                   "address needed to execute the order."}
PHRASES = ["failed to provide", "unknown address", "na na", "don't care", "n/a", "unknown",
           "homeless", "none", "no address", "refused", "transient", "same as above", "tbd",
           "null", "not provided", "unk", "address not available", "xxx", "no fixed abode",
           "declined", "see file", "not given", "unknown unknown"]
JUNK_NUMBERS = ["", "00000", "11111", "99999", "12345", "1234", "0", "000"]
CASES = [str.upper, str.lower, str.title, lambda s: s]


def _request(person: dict[str, str | None]) -> dict[str, str | None]:
    return {"request_id": "R", "suffix": None, "tin": None, **person, **LEGAL}


def _variant(text: str, case_idx: int, pad_left: str, pad_right: str, double: bool) -> str:
    text = CASES[case_idx](text)
    if double:
        text = text.replace(" ", "  ")
    return f"{pad_left}{text}{pad_right}"


@settings(max_examples=150, deadline=None)
@given(which=st.integers(0, len(VALID) - 1), case_idx=st.integers(0, 3),
       pad_left=st.sampled_from(["", " ", "  ", "\t"]), pad_right=st.sampled_from(["", " ", "  "]),
       double=st.booleans())
def test_valid_request_stays_valid_under_case_and_whitespace(
        which: int, case_idx: int, pad_left: str, pad_right: str, double: bool) -> None:
    person = {k: (None if v is None else _variant(v, case_idx, pad_left, pad_right, double)
                  .strip()) for k, v in VALID[which].items()}
    fields = _request(person)
    assert check_request(fields, MANIFEST, AGREEMENT, today=TODAY) == []
    assert dedupe_key(fields) == dedupe_key(_request(dict(VALID[which])))


@settings(max_examples=300, deadline=None)
@given(phrase=st.sampled_from(PHRASES), case_idx=st.integers(0, 3),
       junk=st.sampled_from(JUNK_NUMBERS), punct=st.sampled_from(["", ".", ",", "!", " -", "*"]),
       before=st.booleans(), zip_code=st.sampled_from(["62702", "00000", "12345", "99999"]))
def test_any_placeholder_variant_is_rejected(phrase: str, case_idx: int, junk: str, punct: str,
                                             before: bool, zip_code: str) -> None:
    text = CASES[case_idx](phrase) + punct
    street = f"{junk} {text}" if before else f"{text} {junk}"
    fields = _request({**VALID[0], "street": street.strip(), "zip": zip_code})
    got = check_request(fields, MANIFEST, AGREEMENT, today=TODAY)
    assert got and got[0].code is Code.REJECTED_ADDRESS
    assert got[0].reason == "address_placeholder"


@settings(max_examples=200, deadline=None)
@given(area=st.integers(0, 999), group=st.integers(0, 99), serial=st.integers(0, 9999),
       sep=st.sampled_from(["", "-", " "]))
def test_tin_validity_matches_the_published_rules(area: int, group: int, serial: int,
                                                  sep: str) -> None:
    text = f"{area:03d}{sep}{group:02d}{sep}{serial:04d}"
    if area >= 900:
        expected = group in {*range(50, 66), *range(70, 89), *range(90, 93),
                             *range(94, 100)} and serial > 0
    else:
        expected = area not in (0, 666) and group > 0 and serial > 0
    assert (tin_problem(text) is None) == expected


@settings(max_examples=100, deadline=None)
@given(text=st.text(max_size=60))
def test_gate_never_raises_on_arbitrary_text(text: str) -> None:
    for field in ("street", "city", "state", "zip", "reason", "tax_periods", "order_date",
                  "date_of_birth", "tin", "case_number", "first_name"):
        fields = _request({**VALID[0], field: text.strip() or None})
        for r in check_request(fields, MANIFEST, AGREEMENT, today=TODAY):
            assert r.message
