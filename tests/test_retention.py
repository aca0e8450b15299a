"""Retention: each kind of data purged when its time is up, once, logged; audit events and
accounting records kept."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from batch_helper import RanBatch, run_batch
from matchgate.agreement import Retention
from matchgate.audit import AuditLog
from matchgate.cli.main import run
from matchgate.retention import KINDS, due_kinds, run_retention
from matchgate.store.models import DISCLOSURE_ACCOUNTING


@pytest.fixture(scope="module")
def ran(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RanBatch]:
    batch = run_batch(tmp_path_factory.mktemp("retention"))
    yield batch
    batch.services.store.close()


def accounting_count(ran: RanBatch) -> int:
    with ran.services.store.reading() as conn:
        return len(conn.execute(DISCLOSURE_ACCOUNTING.select()).all())


def test_each_kind_is_purged_in_its_time_and_once(ran: RanBatch) -> None:
    store, batch_id = ran.services.store, ran.result.batch_id
    stored = store.get_batch(batch_id=batch_id)
    assert stored is not None
    received = stored["created_at"].date()
    retention = ran.services.agreement_in_force("IE-TAX-2025-001").retention
    days = {"requests": retention.requests_days, "responses": retention.responses_days,
            "candidates": retention.candidates_days}
    accounted = accounting_count(ran)
    assert accounted > 0
    before = store.decisions_for_batch(batch_id=batch_id)
    assert any(len(d["evidence"].get("candidates", [])) >= 2 for d in before)
    purged: list[str] = []
    for n in sorted(set(days.values())):
        assert run_retention(store, today=received + timedelta(days=n - 1)) == []
        now = run_retention(store, today=received + timedelta(days=n))
        assert sorted(p.kind for p in now) == sorted(k for k, d in days.items() if d == n)
        assert all(p.rows == 300 for p in now)
        purged += [p.kind for p in now]
        decisions = store.decisions_for_batch(batch_id=batch_id)
        assert all(d["evidence"] == {} for d in decisions) == ("candidates" in purged)
        assert any("candidates" in d["evidence"] for d in decisions) \
            == ("candidates" not in purged)
        assert all(d["matched_tin"] is None and d["disclosed"] == {}
                   for d in decisions) == ("responses" in purged)
        payloads = [r["payload"] for r in store.requests_for_batch(batch_id=batch_id)]
        assert all(p == {} for p in payloads) == ("requests" in purged)
    assert sorted(purged) == sorted(KINDS)
    decisions = store.decisions_for_batch(batch_id=batch_id)
    assert {d["code"] for d in decisions} >= {"VERIFIED", "NO_MATCH"}
    assert accounting_count(ran) == accounted
    log = AuditLog(store)
    assert log.verify().ok
    events = [e for e in log.read(limit=100_000) if e["event_type"] == "retention.purged"]
    assert len(events) == 3 and all(e["batch_id"] == batch_id for e in events)


@given(st.integers(1, 4000), st.integers(1, 4000), st.integers(1, 4000), st.integers(0, 5000))
def test_due_kinds_follow_the_days(req: int, resp: int, cand: int, age: int) -> None:
    retention = Retention(requests_days=req, responses_days=resp, candidates_days=cand)
    received = date(2025, 1, 1)
    due = due_kinds(retention, received, received + timedelta(days=age))
    assert due == {k: n for k, n in (("requests", req), ("responses", resp),
                                     ("candidates", cand)) if age >= n}


def test_cli_retention_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                           capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'empty.sqlite'}"
    monkeypatch.setattr(sys, "argv", ["matchgate", "retention", "run", "--today", "2030-01-01",
                                      "--database", url])
    with pytest.raises(SystemExit) as exited:
        run()
    assert exited.value.code in (0, None)
    assert "Nothing to purge as of 2030-01-01" in capsys.readouterr().out
