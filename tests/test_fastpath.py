"""The single-request fast path gives the decisions of the bulk path, on a generated sample."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from matchgate.decide import RequestFacts, Thresholds, decide
from matchgate.intake import RequestRow
from matchgate.master.generate import generate
from matchgate.master.load import load_master
from matchgate.match.blocking import blocking_keys, rule_keys
from matchgate.match.engine import DuckDBMatchEngine, load_model
from matchgate.match.fastpath import FastPath, index_dir_for
from matchgate.match.train import DEFAULT_MODEL_PATH
from matchgate.pipeline import candidate_from_row, decide_single, standardize_requests

THRESHOLDS = Thresholds(match_probability=0.95, review_probability=0.5, ambiguity_margin=3.0)


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[RequestRow]]:
    tmp = tmp_path_factory.mktemp("fast")
    report = generate(tmp / "g", taxpayers=3000, requests=400, seed=23)
    load_master(report.master_path, tmp / "store.duckdb", workers=1)
    with report.requests_path.open(newline="", encoding="utf-8") as fh:
        rows = [RequestRow(n, r["request_id"], {k: (v or None) for k, v in r.items()})
                for n, r in enumerate(csv.DictReader(fh), start=1)]
    return tmp / "store.duckdb", rows


def test_blocking_rules_are_read_as_key_columns() -> None:
    assert rule_keys('(l."a" = r."a") AND (l."b" = r."b")') == ("a", "b")
    assert rule_keys('l."a" = r."b"') is None
    assert rule_keys("levenshtein(l.a, r.a) < 2") is None
    assert blocking_keys(load_model(DEFAULT_MODEL_PATH))


def test_fast_path_decides_as_the_bulk_path(sample: tuple[Path, list[RequestRow]]) -> None:
    store, rows = sample
    table = standardize_requests(rows)
    bulk: dict[str, list] = {r.request_id: [] for r in rows}
    for row in DuckDBMatchEngine(store).find_candidates(table).to_pylist():
        bulk[row["request_id"]].append(candidate_from_row(row))
    fast = FastPath(store)
    assert (index_dir_for(store, fast.master_version) / "rules.json").is_file()
    compared = disclosed = 0
    for r, facts in zip(rows, table.to_pylist(), strict=True):
        expected = decide(RequestFacts(request_id=r.request_id,
                                       std_first_canon=facts["std_first_canon"],
                                       std_suffix=facts["std_suffix"],
                                       std_dob=facts["std_dob"]),
                          bulk[r.request_id], THRESHOLDS)
        got, candidates = decide_single(fast, r.fields, THRESHOLDS, request_id=r.request_id)
        assert (got.code, got.reason, got.matched_tin) == (
            expected.code, expected.reason, expected.matched_tin), r.request_id
        assert [c.tin for c in candidates] == [c.tin for c in bulk[r.request_id]]
        for a, b in zip(candidates, bulk[r.request_id], strict=True):
            assert a.match_probability == pytest.approx(b.match_probability, abs=1e-9)
            assert a.evidence == b.evidence and a.last_address == b.last_address
        compared += 1
        disclosed += got.matched_tin is not None
    assert compared == len(rows) and disclosed > 100


def test_index_is_reused_for_the_same_master(sample: tuple[Path, list[RequestRow]]) -> None:
    store, _ = sample
    FastPath(store)
    again = FastPath(store, build=False)
    assert again.rows.reader.num_record_batches >= 1
