from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from matchgate.codes import Code
from matchgate.csvsafe import is_live, neutralize, write_csv, write_csv_cells
from matchgate.evaluate import evaluate
from matchgate.respond import (
    disclosed_fields,
    response_cells,
    response_columns,
    response_row,
    shown_fields,
)

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


def test_response_cells_are_what_response_row_gives_each_column() -> None:
    """The response file's rows without a dict each (response_cells) hold the values that
    response_row gives the file's columns, disclosed fields missing, extra or None included."""
    decisions: list[dict[str, Any]] = [
        {"request_id": "R1", "code": "VERIFIED", "reason": "match_single", "disclosed": {}},
        {"request_id": "R2", "code": "ADDRESS_DIFFERS", "reason": "match_address_differs",
         "disclosed": {"street": "12 OAK ST", "unit": None, "zip": "02134", "extra": "x"}},
        {"request_id": "=R3", "code": "NO_MATCH", "reason": None, "disclosed": {}},
        {"request_id": "R4", "code": "REJECTED_ADDRESS", "reason": "not_a_known_reason",
         "disclosed": None},
    ]
    for disclosable in (["last_known_address"], []):
        columns = response_columns(disclosable)
        shown = shown_fields(columns)
        assert len(shown) == (5 if disclosable else 0)
        for d in decisions:
            row = response_row(d)
            assert response_cells(d["request_id"], d["code"], d["reason"], d["disclosed"],
                                  shown) == [row.get(c) for c in columns]


def test_cells_and_rows_write_the_same_file(tmp_path: Path) -> None:
    columns = ["a", "b", "c"]
    rows: list[dict[str, object]] = [{"a": "x", "b": None, "c": 1.5},
                                     {"a": " =1", "b": "-2", "c": True}]
    write_csv(tmp_path / "rows.csv", columns, rows)
    write_csv_cells(tmp_path / "cells.csv", columns, [[r.get(c) for c in columns] for r in rows])
    assert (tmp_path / "rows.csv").read_bytes() == (tmp_path / "cells.csv").read_bytes()


def test_text_is_neutralized_exactly_when_a_spreadsheet_could_read_a_formula() -> None:
    """The fast path for text (no call to is_live unless the text starts with a space) says
    what is_live says, on every start that matters."""
    starts = ["", " ", "  ", "=", "+", "-", "@", "\uff1d", "\uff0b", "\uff0d", "\uff20", "\t",
              "\r", "\n", " \t", "a", "1", "'", "\u00a0=", " a", "  @"]
    for start in starts:
        for rest in ("", "SUM(A1)", " x"):
            text = start + rest
            assert (neutralize(text) == "'" + text) == is_live(text), repr(text)
            assert neutralize(text) in (text, "'" + text)
    assert neutralize(None) == "" and neutralize(3) == "3" and neutralize(False) == "False"
