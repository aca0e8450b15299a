"""The oversight report: verdict first, checks that fail when they should, no network."""

from __future__ import annotations

import re
import sys
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from batch_helper import RanBatch, run_batch
from matchgate.cli.main import run
from matchgate.errors import NotFound
from matchgate.reports import gather, render_report
from matchgate.reports.analysis import anomalies, checks, officials, rate_anomalies
from matchgate.transparency import load_public_key, public_key_path


@pytest.fixture(scope="module")
def ran(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RanBatch]:
    batch = run_batch(tmp_path_factory.mktemp("report"))
    yield batch
    batch.services.store.close()


def key(ran: RanBatch) -> Ed25519PublicKey:
    return load_public_key(public_key_path(ran.settings.resolved_signing_key()))


def test_a_clean_batch_is_lawful_and_accurate(ran: RanBatch) -> None:
    data = gather(ran.services.store, batch_id=ran.result.batch_id, public_key=key(ran),
                  origin=ran.settings.log_origin)
    results = {c.name: c for c in checks(data)}
    assert all(c.ok for c in results.values()), results
    html = render_report(data)
    first_screen = html[:html.index('id="checks"')]
    assert "LAWFUL AND ACCURATE" in first_screen and "300 requests" in first_screen
    assert not re.search(r"<script[^>]+src=[\"']?https?:", html)
    assert not re.search(r"<link[^>]+href=[\"']?https?:", html)
    assert html.count("<svg") == 4
    assert "Requests per certifying official" in html


def test_a_missing_accounting_record_or_gate_fails_the_verdict(ran: RanBatch) -> None:
    data = gather(ran.services.store, batch_id=ran.result.batch_id, public_key=key(ran),
                  origin=ran.settings.log_origin)
    data.accounted.pop(next(iter(data.accounted)))
    data.gated.pop()
    failed = {c.name for c in checks(data) if not c.ok}
    assert failed == {"No disclosure without accounting", "Every request gated"}
    assert "NEEDS ATTENTION" in render_report(data)


def test_without_a_key_checkpoints_are_not_claimed(ran: RanBatch) -> None:
    data = gather(ran.services.store, batch_id=ran.result.batch_id)
    assert [c.name for c in checks(data) if not c.ok] == ["Signed checkpoints verify"]


def test_anomalies_need_a_baseline_and_find_what_is_far(ran: RanBatch) -> None:
    data = gather(ran.services.store, batch_id=ran.result.batch_id)
    assert rate_anomalies(data) == []
    data.history.update({f"other-{i}": Counter({"VERIFIED": 95, "REJECTED_ADDRESS": 5})
                         for i in range(4)})
    data.history[ran.result.batch_id] = Counter({"VERIFIED": 40, "REJECTED_ADDRESS": 60})
    titles = [a.title for a in rate_anomalies(data)]
    assert any("Unusual rejection rate" in t for t in titles)
    assert any("Unusual address rejection rate" in t for t in titles)


def test_official_volume_and_repeated_people(ran: RanBatch) -> None:
    data = gather(ran.services.store, batch_id=ran.result.batch_id)
    base = data.batches[0]
    data.batches += [{**base, "batch_id": f"X{i}", "submitted_by": f"official {i}",
                      "row_count": 1} for i in range(2)]
    rows = officials(data)
    assert len(rows) == 3 and rows[0]["requests"] == sum(
        d["code"] != "REJECTED_LIMIT" for d in data.decisions)
    some = next(d for d in data.decisions if d["matched_tin"])
    data.decisions.append({**some, "request_id": "again"})
    titles = " ".join(a.title for a in anomalies(data))
    assert "out of proportion" in titles and "asked about more than once" in titles


def test_cli_report_needs_a_scope_and_writes_html(ran: RanBatch, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("MATCHGATE_HOME", str(ran.settings.home))
    out = tmp_path / "report.html"
    for args, code in ((["--out", str(out)], 2),
                       (["--out", str(out), "--batch", ran.result.batch_id], 0)):
        monkeypatch.setattr(sys, "argv", ["matchgate", "report", *args])
        with pytest.raises(SystemExit) as exited:
            run()
        assert (exited.value.code or 0) == code, capsys.readouterr()
    assert "LAWFUL AND ACCURATE" in out.read_text(encoding="utf-8")


def test_a_period_scope_and_an_empty_one(ran: RanBatch) -> None:
    today = datetime.now(UTC).date()
    data = gather(ran.services.store, start=today, end=today)
    assert [b["batch_id"] for b in data.batches] == [ran.result.batch_id]
    assert data.scope == f"batches received {today} to {today}"
    with pytest.raises(NotFound, match="no batches received"):
        gather(ran.services.store, start=today - timedelta(days=9),
               end=today - timedelta(days=8))


def test_an_official_over_the_limit_within_the_period(ran: RanBatch) -> None:
    data = gather(ran.services.store, batch_id=ran.result.batch_id)
    (key_, agreement), = data.agreements.items()
    limits = agreement.limits.model_copy(update={"max_requests_per_official": 400,
                                                 "official_period_days": 30})
    data.agreements[key_] = agreement.model_copy(update={"limits": limits})
    base = data.batches[0]
    answered = officials(data)[0]["requests"]
    later = {**base, "batch_id": "B-later", "created_at": base["created_at"] + timedelta(days=10)}
    data.batches.append(later)
    data.decisions += [{**d, "batch_id": "B-later"} for d in data.decisions]
    row = officials(data)[0]
    assert (row["largest"], row["over_limit"]) == (2 * answered, 2 * answered > 400)
    assert "Within the agreement's limits" in {c.name for c in checks(data) if not c.ok}
    data.batches[-1] = {**later, "created_at": base["created_at"] + timedelta(days=31)}
    assert officials(data)[0]["largest"] == answered
