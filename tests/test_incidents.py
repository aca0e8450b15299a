"""The incident path: flag, mark the accounting record, write the 24-hour report."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from batch_helper import RanBatch, run_batch
from matchgate.audit import AuditLog
from matchgate.cli.main import run
from matchgate.errors import InputError, NotFound
from matchgate.incidents import flag_incident, write_incident_report
from matchgate.reports import gather
from matchgate.reports.analysis import anomalies
from matchgate.store.models import DISCLOSURE_ACCOUNTING


@pytest.fixture(scope="module")
def ran(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RanBatch]:
    batch = run_batch(tmp_path_factory.mktemp("incidents"), requests=120)
    yield batch
    batch.services.store.close()


def accounting(ran: RanBatch) -> list[dict]:
    with ran.services.store.reading() as conn:
        return [dict(r) for r in conn.execute(DISCLOSURE_ACCOUNTING.select()).mappings()]


def test_flag_marks_the_record_and_writes_the_report(ran: RanBatch, tmp_path: Path) -> None:
    store = ran.services.store
    target = accounting(ran)[0]
    now = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)
    incident = flag_incident(store, request_id=target["request_id"], reason="no final order",
                             flagged_by="auditor-1", role="auditor", now=now)
    assert incident.report_due_at == now + timedelta(hours=24)
    marked = {r["id"]: r["incident_id"] for r in accounting(ran)}
    assert marked[target["id"]] == incident.incident_id
    assert sum(v is not None for v in marked.values()) == 1
    last = AuditLog(store).read(limit=100_000)[-1]
    assert last["event_type"] == "incident.flagged" and last["role"] == "auditor"
    assert target["taxpayer_tin"] not in last["details"]
    paths = write_incident_report(incident, tmp_path)
    assert sorted(p.suffix for p in paths) == [".html", ".json", ".txt"]
    text = paths[0].read_text(encoding="utf-8")
    assert "2026-11-26 09:30" in text and "no final order" in text
    assert target["taxpayer_tin"] not in "".join(p.read_text(encoding="utf-8") for p in paths)
    assert json.loads(paths[2].read_text())["report_due_at"].startswith("2026-11-26T09:30")
    with pytest.raises(InputError, match="already flagged"):
        flag_incident(store, request_id=target["request_id"], reason="again",
                      flagged_by="auditor-1", role="auditor")
    titles = [a.title for a in anomalies(gather(store, batch_id=ran.result.batch_id))]
    assert any("suspected improper" in t for t in titles)


def test_only_disclosures_and_only_reviewers_or_auditors(ran: RanBatch) -> None:
    store = ran.services.store
    disclosed = {r["request_id"] for r in accounting(ran)}
    other = next(d["request_id"] for d in store.decisions_for_batch(
        batch_id=ran.result.batch_id) if d["request_id"] not in disclosed)
    with pytest.raises(NotFound, match="made no disclosure"):
        flag_incident(store, request_id=other, reason="x", flagged_by="a", role="auditor")
    with pytest.raises(InputError, match="reviewer or an auditor"):
        flag_incident(store, request_id=next(iter(disclosed)), reason="x", flagged_by="a",
                      role="requester")


def test_cli_flag(ran: RanBatch, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                  capsys: pytest.CaptureFixture[str]) -> None:
    target = next(r for r in accounting(ran) if r["incident_id"] is None)
    monkeypatch.setattr(sys, "argv", [
        "matchgate", "incident", "flag", "--request", target["request_id"], "--reason",
        "wrong person", "--role", "reviewer", "--out", str(tmp_path),
        "--database", ran.settings.resolved_database_url()])
    with pytest.raises(SystemExit) as exited:
        run()
    output = capsys.readouterr().out
    assert (exited.value.code or 0) == 0, output
    assert "File the report by" in output and len(list(tmp_path.glob("INC-*"))) == 3
