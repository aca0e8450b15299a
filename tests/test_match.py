"""The model, its training and the DuckDB engine, on a generated population with a few
hand-made taxpayers whose variants a requester could plausibly write."""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import typer
from hypothesis import given
from hypothesis import strategies as st
from splink import DuckDBAPI, Linker
from typer.testing import CliRunner

from matchgate.cli.model_cmd import register
from matchgate.columns import MASTER_COLUMNS
from matchgate.errors import InputError
from matchgate.master.generate import generate
from matchgate.master.load import load_master
from matchgate.match.calibrate import calibrate, level_weight
from matchgate.match.candidates import CANDIDATE_COLUMNS
from matchgate.match.engine import DuckDBMatchEngine, MatchEngine
from matchgate.match.settings import MODEL_COLUMNS
from matchgate.match.train import DEFAULT_MODEL_PATH
from matchgate.standardize import standardize_table

HARPER, SUSAN, GARCIA, ONEILL = "123456789", "123456780", "912701234", "234567890"
ELM = ("48 ELM AVE", "APT 2", "SPRINGFIELD", "IL", "62702")
OAK = ("12 OAK ST", None, "SPRINGFIELD", "IL", "62701")
PEOPLE = [
    (HARPER, "SSN", "WILLIAM", "JAMES", "HARPER", None, "1970-03-04", *OAK, 2021),
    (HARPER, "SSN", "WILLIAM", "JAMES", "HARPER", None, "1970-03-04", *OAK, 2022),
    (HARPER, "SSN", "WILLIAM", "JAMES", "HARPER", None, "1970-03-04", *ELM, 2023),
    (SUSAN, "SSN", "SUSAN", "ANN", "HARPER", None, "1972-08-09", *ELM, 2023),
    (GARCIA, "ITIN", "MARIA", None, "GARCIA LOPEZ", None, "1985-11-30", "7 PINE RD", None,
     "AUSTIN", "TX", "78701", 2024),
    (ONEILL, "SSN", "KATHERINE", "ROSE", "O'NEILL", None, "1990-06-15", "300 MAPLE DR", None,
     "COLUMBUS", "OH", "43004", 2024),
]
REQUEST_FIELDS = ("request_id", "first_name", "middle_name", "last_name", "suffix",
                  "date_of_birth", "tin", "street", "unit", "city", "state", "zip")
REQUESTS = [
    ("nickname", "Bill", None, "Harper", None, "03/04/1970", None, "48 Elm Avenue", "Apt. 2",
     "Springfield", "IL", "62702"),
    ("typo", "William", "J", "Harpre", None, "1970-03-04", None, "48 Elm Ave", "#2",
     "Springfield", "IL", "62702"),
    ("swapped", "Maria", None, "Lopez Garcia", None, "1985-11-30", None, "7 Pine Road", None,
     "Austin", "TX", "78701"),
    ("older", "William", "James", "Harper", None, "1970-03-04", None, "12 Oak Street", None,
     "Springfield", "IL", "62701"),
    ("no_dob", "Katherine", "R", "ONeill", None, None, None, "300 Maple Drive", None,
     "Columbus", "OH", "43004"),
    ("household", "James", None, "Harper", None, "2001-02-03", None, "48 Elm Ave", "Apt 2",
     "Springfield", "IL", "62702"),
    ("unrelated", "Zbigniew", None, "Quartermaine", None, "1950-01-01", None,
     "999 Nowhere Blvd", None, "Anchorage", "AK", "99501"),
]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("match")
    generate(tmp / "g", taxpayers=2000, requests=0, seed=11)
    population = pq.read_table(tmp / "g" / "master.parquet")
    extra = pa.Table.from_pylist([dict(zip(MASTER_COLUMNS, p, strict=True)) for p in PEOPLE],
                                 schema=population.schema)
    pq.write_table(pa.concat_tables([population, extra]), tmp / "master.parquet")
    load_master(tmp / "master.parquet", tmp / "store.duckdb")
    return tmp / "store.duckdb"


@pytest.fixture(scope="module")
def candidates(store: Path) -> dict[str, list[dict[str, Any]]]:
    requests = standardize_table(pa.Table.from_pylist(
        [dict(zip(REQUEST_FIELDS, r, strict=True)) for r in REQUESTS]))
    engine: MatchEngine = DuckDBMatchEngine(store)
    table = engine.find_candidates(requests)
    assert tuple(table.column_names) == CANDIDATE_COLUMNS
    out: dict[str, list[dict[str, Any]]] = {r[0]: [] for r in REQUESTS}
    for row in table.to_pylist():
        out[row["request_id"]].append(row)
    return out


def best(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return max(rows, key=lambda r: r["match_probability"])


@pytest.mark.parametrize("request_id,tin", [("nickname", HARPER), ("typo", HARPER),
                                            ("swapped", GARCIA), ("older", HARPER),
                                            ("no_dob", ONEILL)])
def test_noisy_variants_find_the_taxpayer(candidates: dict[str, list[dict[str, Any]]],
                                          request_id: str, tin: str) -> None:
    top = best(candidates[request_id])
    assert top["tin"] == tin
    assert top["match_probability"] > 0.95
    evidence = json.loads(top["evidence"])
    assert set(evidence["match_weights"]) == set(evidence["gamma"]) >= {"first_name", "dob"}


def test_last_known_address_flag(candidates: dict[str, list[dict[str, Any]]]) -> None:
    current, older = best(candidates["nickname"]), best(candidates["older"])
    assert current["address_is_last_known"] is True
    assert (current["last_street"], current["last_unit"]) == ("48 ELM AVE", "APT 2")
    assert current["matched_history_year"] == 2023
    assert older["address_is_last_known"] is False
    assert older["matched_history_year"] in (2021, 2022)
    assert older["last_zip"] == "62702"
    assert best(candidates["swapped"])["address_is_last_known"] is True


def test_household_member_scores_low(candidates: dict[str, list[dict[str, Any]]]) -> None:
    rows = {r["tin"]: r for r in candidates["household"]}
    for tin in (HARPER, SUSAN):
        assert rows.get(tin, {"match_probability": 0.0})["match_probability"] < 0.5


def test_unrelated_person_has_no_candidate(candidates: dict[str, list[dict[str, Any]]]
                                           ) -> None:
    assert candidates["unrelated"] == []


def test_one_row_per_request_and_taxpayer(candidates: dict[str, list[dict[str, Any]]]) -> None:
    for rows in candidates.values():
        assert len({r["tin"] for r in rows}) == len(rows)


def test_requests_need_the_model_columns(store: Path) -> None:
    with pytest.raises(InputError) as err:
        DuckDBMatchEngine(store).find_candidates(pa.table({"request_id": ["r1"]}))
    assert "std_first" in {p.field for p in err.value.problems}


def test_packaged_model_loads() -> None:
    model = json.loads(DEFAULT_MODEL_PATH.read_text(encoding="utf-8"))
    assert model["link_type"] == "link_only"
    assert 0 < model["probability_two_random_records_match"] < 0.01
    names = [c["output_column_name"] for c in model["comparisons"]]
    assert names == ["first_name", "last_name", "middle_name", "suffix", "dob", "address",
                     "unit", "tin"]
    db_api = DuckDBAPI()
    empty = pa.table({c: pa.array([], pa.string()) for c in ("unique_id", *MODEL_COLUMNS)})
    sides = [db_api.register(empty, dataset_display_name=n) for n in ("master", "requests")]
    Linker(sides, model, log_level=logging.WARNING)
    for comparison in model["comparisons"]:
        for level in comparison["comparison_levels"]:
            if not level.get("is_null_level"):
                assert 0 < level["m_probability"] <= 1 and 0 < level["u_probability"] <= 1


probabilities = st.one_of(st.none(), st.floats(1e-9, 1.0), st.just("level not observed"))


@given(st.lists(st.tuples(probabilities, probabilities), min_size=1, max_size=6))
def test_calibrate_keeps_weights_at_or_above_disagreement(
        pairs: list[tuple[object, object]]) -> None:
    levels = [{"sql_condition": "x", "m_probability": m, "u_probability": u} for m, u in pairs]
    model = {"comparisons": [{"output_column_name": "c", "comparison_levels": levels}]}
    out = calibrate(model, pairs_sampled=1e6)["comparisons"][0]["comparison_levels"]
    weights = [level_weight(lv) for lv in out]
    assert all(w is not None and math.isfinite(w) for w in weights)
    floor = weights[-1]
    assert floor is not None
    assert all(w is not None and w >= floor - 1e-9 for w in weights)


def test_cli_model_train(tmp_path: Path) -> None:
    generate(tmp_path / "g", taxpayers=400, requests=150, seed=4)
    load_master(tmp_path / "g" / "master.parquet", tmp_path / "s.duckdb")
    app = typer.Typer()
    register(app)
    out, chart = tmp_path / "model.json", tmp_path / "weights.html"
    result = CliRunner().invoke(app, [
        "model", "train", "--master", str(tmp_path / "s.duckdb"), "--requests",
        str(tmp_path / "g" / "requests.csv"), "--out", str(out), "--chart", str(chart),
        "--seed", "3"])
    assert result.exit_code == 0, result.output
    assert "Match weights" in result.output and str(chart) in result.output.replace("\n", "")
    model = json.loads(out.read_text(encoding="utf-8"))
    assert model["probability_two_random_records_match"] > 0
    html = chart.read_text(encoding="utf-8")
    assert "vega" in html and 'src="https://' not in html
