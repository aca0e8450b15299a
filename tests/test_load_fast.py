"""The load benchmark's CI part: bench/load's driver, small, against a real `matchgate serve` and
`matchgate worker` on PostgreSQL; every invariant must hold and no call may get a 5xx."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from conftest import postgres_schema_url

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.load.run import measure  # noqa: E402


@pytest.mark.slow
def test_small_load_loses_nothing_and_answers_once(tmp_path: Path) -> None:
    for url in postgres_schema_url():
        result = measure(tmp_path, url, clients=14, seconds=12, workers=1, taxpayers=2000,
                         requests=3000, batch_rows=5, requesters=3, reviewers=2, seed=5,
                         drain_seconds=120)
    assert result["server_errors"] == 0, result["errors"]
    failed = [i for i in result["invariants"] if not i["held"]]
    assert not failed, [(i["invariant"], i["examples"]) for i in failed]
    # every kind of client got its work done: answers, batches, status, reviews decided
    routes = result["routes"]
    for route in ("POST /requests", "POST /batches", "GET /batches/{id}", "GET /reviews"):
        assert routes[route]["statuses"].get("200", 0) + routes[route]["statuses"].get(
            "202", 0) > 0, (route, routes[route])
    acknowledged = result["acknowledged"]
    assert acknowledged["single_requests"] > 10 and acknowledged["batches"] > 0
    assert acknowledged["reviews_decided"] > 0
    assert all(s in {"200", "202", "409"} for r in routes.values() for s in r["statuses"]), \
        result["errors"]  # 409: a review another reviewer claimed first
    for log in ("serve.log", "worker-0.log"):
        text = (tmp_path / log).read_text(errors="replace")
        assert "Traceback" not in text, text[-3000:]
