"""The Spark engine gives the decisions of the DuckDB engine on one batch (pyspark in local
mode). Skipped when pyspark is not installed, except in CI, which installs the spark extra."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

from matchgate.agreement import load_agreement
from matchgate.examples import example_path
from matchgate.intake import load_manifest
from matchgate.master.generate import generate
from matchgate.master.load import load_master
from matchgate.match.engine import DuckDBMatchEngine, MatchEngine
from matchgate.pipeline import BatchRun
from matchgate.store import Store

HAVE_SPARK = importlib.util.find_spec("pyspark") is not None
if not HAVE_SPARK and os.environ.get("CI"):
    pytest.fail("CI must install the spark extra (pyspark)", pytrace=False)
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not HAVE_SPARK, reason="pyspark is not installed")]


def _decisions(tmp: Path, name: str, engine: MatchEngine, data: Path) -> dict[str, tuple]:
    store = Store.open(f"sqlite:///{tmp / name}.sqlite")
    agreement = load_agreement(example_path("agreement.toml"))
    store.save_agreement(agreement_id=agreement.agreement_id, version=agreement.version,
                         text=example_path("agreement.toml").read_text(), loaded_by="test")
    run = BatchRun(requests_path=data / "requests.csv",
                   manifest=load_manifest(data / "manifest.toml"), agreement=agreement,
                   store=store, engine=engine, responses_path=tmp / f"{name}.csv")
    result = run.run()
    return {d["request_id"]: (d["code"], d["reason"], d["matched_tin"],
                              d["match_probability"])
            for d in store.decisions_for_batch(batch_id=result.batch_id)}


def test_spark_and_duckdb_decide_alike(tmp_path: Path) -> None:
    from matchgate.match.spark import SparkMatchEngine

    report = generate(tmp_path / "g", taxpayers=1500, requests=200, seed=41)
    store = tmp_path / "store.duckdb"
    load_master(report.master_path, store, workers=1)
    on_duckdb = _decisions(tmp_path, "duckdb", DuckDBMatchEngine(store), tmp_path / "g")
    on_spark = _decisions(tmp_path, "spark", SparkMatchEngine(store, master="local[2]"),
                          tmp_path / "g")
    assert on_spark.keys() == on_duckdb.keys() and len(on_spark) == report.requests
    for request_id, (code, reason, tin, probability) in on_duckdb.items():
        other = on_spark[request_id]
        assert other[:3] == (code, reason, tin), request_id
        if probability is None:
            assert other[3] is None
        else:
            assert other[3] == pytest.approx(probability, abs=1e-9)
    assert sum(1 for d in on_duckdb.values() if d[2]) > 50
