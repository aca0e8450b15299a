"""The fast path's Python scorer (sqlpy.py, fewpairs.py) gives exactly what DuckDB gives: every
condition of the model on pairs built to reach every level (NULLs included), the functions at
their floating-point edges, and the candidates of whole requests against the SQL scorer."""

from __future__ import annotations

import csv
import json
import random
from typing import Any

import duckdb
import pyarrow as pa
import pytest

from matchgate.master.generate import generate
from matchgate.master.load import load_master
from matchgate.match.engine import load_model
from matchgate.match.fastpath import FastPath, request_table
from matchgate.match.fewpairs import sql_round
from matchgate.match.inputs import requests_input
from matchgate.match.settings import MODEL_COLUMNS
from matchgate.match.sqlpy import Inexact, Unsupported, compile_condition, jaro_winkler
from matchgate.match.train import DEFAULT_MODEL_PATH
from matchgate.standardize import standardize_record

MODEL = load_model(DEFAULT_MODEL_PATH)
CONDITIONS = [lv["sql_condition"] for c in MODEL["comparisons"]
              for lv in c["comparison_levels"] if lv["sql_condition"].strip() != "ELSE"]

# Values per column that make the levels fire: equal, one letter off, swapped, related, NULL.
POOLS: dict[str, list[str | None]] = {
    "std_first": ["JOHN", "JON", "JOHAN", "J", "MARIA", "MARIE", "ANN", "ANNA", None],
    "std_middle": ["JOHN", "J", "ANN", "A", "LEE", None],
    "std_last": ["SMITH", "SMYTH", "SMITHE", "GARCIA", "GARCIA LOPEZ", "LOPEZ", None],
    "std_dob": ["1980-02-03", "1980-03-02", "1980-02-04", "1980-02-28", "1981-02-03",
                "1979-12-31", "1990-02-03", "2020-02-30", None],
    "std_tin": ["123456789", "123456788", "213456789", "987654321", None],
    "std_zip5": ["20001", "20002", None],
    "std_house": ["12", "120", None],
    "std_street_name": ["MAIN", "MAINE", "OAK", None],
    "std_unit": ["1", "2", None],
    "std_suffix": ["JR", "SR", None],
}


def _row(rng: random.Random) -> dict[str, Any]:
    row: dict[str, Any] = {c: rng.choice(POOLS.get(c, [None])) for c in MODEL_COLUMNS}
    first, last, middle = row["std_first"], row["std_last"], row["std_middle"]
    row["std_first_canon"] = {"JON": "JOHN", "JOHAN": "JOHN", "MARIE": "MARIA"}.get(
        first or "", first)
    row["std_first_related"] = rng.choice(["JOHN JON", "ANNA", None])
    row["std_middle_initial"] = middle[0] if middle else None
    parts = (last or "").split()
    row["std_last_first"] = parts[0] if parts else None
    row["std_last_second"] = parts[1] if len(parts) > 1 else None
    row["std_last_phonetic"] = (last or "")[:2] or None
    return row


@pytest.fixture(scope="module")
def pairs() -> tuple[list[dict[str, Any]], list[dict[str, Any]], duckdb.DuckDBPyConnection]:
    rng = random.Random(7)
    left = [_row(rng) for _ in range(3000)]
    right = [_row(rng) for _ in range(3000)]
    columns = {f"{c}_l": [r[c] for r in left] for c in MODEL_COLUMNS}
    columns.update({f"{c}_r": [r[c] for r in right] for c in MODEL_COLUMNS})
    con = duckdb.connect()
    con.register("pairs", pa.table({k: pa.array(v, type=pa.string())
                                    for k, v in columns.items()}))
    return left, right, con


@pytest.mark.parametrize("condition", CONDITIONS)
def test_each_condition_of_the_model_is_evaluated_as_duckdb_does(
        condition: str, pairs: tuple[list[dict[str, Any]], list[dict[str, Any]],
                                     duckdb.DuckDBPyConnection]) -> None:
    left, right, con = pairs
    expected = [v for (v,) in con.execute(f"SELECT ({condition}) FROM pairs").fetchall()]
    fn = compile_condition(condition)
    got = [fn(a, b) for a, b in zip(left, right, strict=True)]
    assert got == expected
    assert True in got and len(set(got)) > 1, "the pairs reach more than one outcome"


def test_three_valued_logic_and_functions_match_duckdb() -> None:
    con = duckdb.connect()
    left = {"a": None, "b": "X", "c": "ABC", "n": 3}
    right = {"a": "X", "b": None, "c": "", "n": 0}
    cases = ["a_l = a_r OR b_l = b_r", "a_l = a_r AND b_r IS NULL", "NOT (a_l = a_r)",
             "a_l = a_r OR b_l = a_r", "concat(' ', a_l, ' ') = '  '", "(b_l || a_l) IS NULL",
             "strpos(c_l, 'B')", "strpos(c_l, c_r)", "substr(c_l, 2, 5)", "substr(c_l, 2)",
             "length(c_l) - n_l", "coalesce(a_l, b_l)", "b_l IN ('Y', a_l)",
             "b_l IN ('X', a_l)", "b_l IN ('Y', 'Z')", "n_r / n_l", "abs(n_r - n_l)",
             "jaro_winkler_similarity(c_l, c_r)", "lower(c_l)",
             "ABS(EPOCH(try_strptime('2020-03-01', '%Y-%m-%d')) - "
             "EPOCH(try_strptime('1969-12-31', '%Y-%m-%d')))",
             "try_strptime('2021-02-29', '%Y-%m-%d') IS NULL"]
    values = {f"{k}_{s}": v for s, row in (("l", left), ("r", right)) for k, v in row.items()}
    select = ", ".join(f"${k} AS {k}" for k in values)
    con.execute(f"CREATE TABLE t AS SELECT {select}", values)
    for sql in cases:
        (expected,) = con.execute(f"SELECT ({sql}) FROM t").fetchone() or (None,)
        assert compile_condition(sql)(left, right) == expected, sql


def test_what_is_not_reproduced_exactly_is_refused() -> None:
    for sql in ("CASE WHEN a_l = a_r THEN 1 END = 1", "l.a = r.a", "levenshtein(a_l, a_r, 2)",
                "try_strptime(a_l, '%d/%m/%Y') IS NULL", "regexp_matches(a_l, a_r)"):
        with pytest.raises(Unsupported):
            compile_condition(sql)({"a": "1"}, {"a": "1"})
    with pytest.raises(Inexact):
        compile_condition("EPOCH(try_strptime(a_l, '%Y-%m-%d')) > 0")({"a": "2020-1-5"}, {})
    with pytest.raises(Inexact):
        compile_condition("substr(a_l, 0, 2) = 'A'")({"a": "AB"}, {})


def test_jaro_winkler_and_round_are_duckdb_s_to_the_last_bit() -> None:
    rng = random.Random(3)
    words = ["".join(rng.choice("AEINORST") for _ in range(rng.randint(0, 9)))
             for _ in range(40000)]
    pairs = list(zip(words[::2], words[1::2], strict=True))
    pairs += [(a, a[:-1] + "E") for a, _ in pairs[:5000]]
    numbers = [rng.uniform(-40, 40) for _ in range(20000)] + [round(rng.uniform(-40, 40), 5)
               for _ in range(20000)] + [k / 32 for k in range(-500, 500)] + [2.00005]
    con = duckdb.connect()
    con.register("p", pa.table({"a": [a for a, _ in pairs], "b": [b for _, b in pairs]}))
    con.register("x", pa.table({"v": numbers}))
    expected = [v for (v,) in con.execute("SELECT jaro_winkler_similarity(a, b) FROM p"
                                          ).fetchall()]
    assert [jaro_winkler(a, b) for a, b in pairs] == expected
    rounded = [v for (v,) in con.execute("SELECT round(v, 4) FROM x").fetchall()]
    assert [sql_round(v, 4) for v in numbers] == rounded


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[FastPath, list[dict[str, Any]]]:
    tmp = tmp_path_factory.mktemp("few")
    report = generate(tmp / "g", taxpayers=3000, requests=300, seed=31)
    load_master(report.master_path, tmp / "store.duckdb", workers=1)
    with report.requests_path.open(newline="", encoding="utf-8") as fh:
        requests = [{"request_id": r["request_id"],
                     **standardize_record({k: (v or None) for k, v in r.items()})}
                    for r in csv.DictReader(fh)]
    return FastPath(tmp / "store.duckdb"), requests


def _by_sql(fast: FastPath, table: pa.Table) -> list[dict[str, Any]]:
    shaped = requests_input(table)
    engine = fast.engine
    return list(engine._scored(shaped, engine.block(shaped), 0.01).to_pylist())


def _same(python: list[dict[str, Any]], sql: list[dict[str, Any]]) -> None:
    assert [r["tin"] for r in python] == [r["tin"] for r in sql]
    for mine, theirs in zip(python, sql, strict=True):
        assert json.loads(mine.pop("evidence")) == json.loads(theirs.pop("evidence"))
        assert mine == theirs


def test_candidates_scored_in_python_are_the_sql_scorer_s(
        sample: tuple[FastPath, list[dict[str, Any]]]) -> None:
    fast, requests = sample
    engine = fast.engine
    scorer = engine.few_pair_scorer
    assert scorer is not None
    found = 0
    for request in requests:
        table = request_table(request)
        shaped = requests_input(table)
        python = engine._few_pairs(scorer, shaped, engine.block(shaped), 0.01)
        found += len(python)
        _same(python, _by_sql(fast, table))
    assert found > len(requests)  # most requests have candidates, many have rivals


def test_a_request_the_python_scorer_cannot_reproduce_is_scored_by_sql(
        sample: tuple[FastPath, list[dict[str, Any]]]) -> None:
    fast, requests = sample
    request = next(r for r in requests if fast.find_candidates(r))
    odd = {**request, "std_middle": "JOSÉ", "std_middle_initial": "J"}
    table = request_table(odd)
    with pytest.raises(Inexact):
        engine = fast.engine
        shaped = requests_input(table)
        assert engine.few_pair_scorer is not None
        engine._few_pairs(engine.few_pair_scorer, shaped, engine.block(shaped), 0.01)
    rows = fast.find_candidates(odd)
    assert rows
    _same(rows, _by_sql(fast, table))
