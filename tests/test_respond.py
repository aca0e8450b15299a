from __future__ import annotations

import csv
from pathlib import Path

from matchgate.codes import Code
from matchgate.csvsafe import neutralize, write_csv
from matchgate.evaluate import evaluate
from matchgate.respond import disclosed_fields, response_columns, response_row

ADDR = {"street": "12 Oak St", "unit": None, "city": "Boston", "state": "MA", "zip": "02134"}


def test_only_address_differs_discloses_and_only_when_allowed() -> None:
    assert disclosed_fields(Code.ADDRESS_DIFFERS, ADDR, ["last_known_address"])["zip"] == "02134"
    assert disclosed_fields(Code.ADDRESS_DIFFERS, ADDR, []) == {}
    for code in Code:
        if code != Code.ADDRESS_DIFFERS:
            assert disclosed_fields(code, ADDR, ["last_known_address"]) == {}


def test_response_row_never_carries_scores_or_tins() -> None:
    row = response_row({"request_id": "R1", "code": "VERIFIED", "reason": "match_single",
                        "matched_tin": "123456789", "match_probability": 0.999,
                        "disclosed": {}})
    assert set(row) == {"request_id", "code", "reason", "detail"}
    assert "123456789" not in str(row.values())


def test_response_columns_follow_the_agreement() -> None:
    assert "disclosed_street" in response_columns(["last_known_address"])
    assert not any(c.startswith("disclosed_") for c in response_columns([]))


def test_formula_cells_are_neutralized(tmp_path: Path) -> None:
    assert neutralize("=HYPERLINK(\"x\")").startswith("'")
    assert neutralize("@SUM(A1)") == "'@SUM(A1)"
    assert neutralize("R0001") == "R0001"
    out = tmp_path / "r.csv"
    write_csv(out, ["request_id"], [{"request_id": "+1+1"}])
    rows = list(csv.reader(out.open()))
    assert rows == [["request_id"], ["'+1+1"]]


def test_evaluate_counts_wrong_disclosures_against_precision() -> None:
    truth: dict[str, dict[str, str | None]] = {
        "A": {"category": "in_master", "true_tin": "1"},
        "B": {"category": "in_master", "true_tin": "2"},
        "C": {"category": "not_in_master", "true_tin": None},
        "D": {"category": "invalid", "true_tin": None}}
    decisions: list[dict[str, str | None]] = [
        {"request_id": "A", "code": "VERIFIED", "matched_tin": "1"},
        {"request_id": "B", "code": "NO_MATCH", "matched_tin": None},
        {"request_id": "C", "code": "ADDRESS_DIFFERS", "matched_tin": "9"},
        {"request_id": "D", "code": "REJECTED_ADDRESS", "matched_tin": None}]
    acc = evaluate(decisions, truth)
    assert acc.precision == 0.5
    assert acc.recall == 0.5
    assert acc.not_in_master_disclosed == 1
    assert acc.invalid_rejected_rate == 1.0
