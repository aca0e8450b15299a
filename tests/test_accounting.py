"""Accounting of disclosures: one record per disclosure, written with the decision; the
taxpayer's question and the agency's report."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.exc import DBAPIError

from batch_helper import RanBatch, run_batch
from matchgate.accounting import AUTOMATIC_APPROVAL, disclosure_record
from matchgate.accounting.repo import accounting_for_period, accounting_for_taxpayer
from matchgate.accounting.service import export_accounting, taxpayer_disclosures
from matchgate.audit import AuditLog
from matchgate.codes import DISCLOSING_CODES
from matchgate.errors import InputError
from matchgate.store import Store
from matchgate.store.models import DISCLOSURE_ACCOUNTING


@pytest.fixture(scope="module")
def ran(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RanBatch]:
    batch = run_batch(tmp_path_factory.mktemp("accounting"))
    yield batch
    batch.services.store.close()


def all_records(ran: RanBatch) -> list[dict]:
    day = datetime.now(UTC).date()
    with ran.services.store.reading() as conn:
        return accounting_for_period(conn, day - timedelta(days=1), day + timedelta(days=1))


def test_one_record_per_disclosure_with_the_decisions_time(ran: RanBatch) -> None:
    store = ran.services.store
    decisions = store.decisions_for_batch(batch_id=ran.result.batch_id)
    disclosing = {d["request_id"]: d for d in decisions if d["code"] in DISCLOSING_CODES}
    records = all_records(ran)
    assert len(disclosing) > 50
    assert {r["request_id"] for r in records} == set(disclosing)
    payloads = {r["request_id"]: r["payload"] for r in
                store.requests_for_batch(batch_id=ran.result.batch_id)}
    for r in records:
        d = disclosing[r["request_id"]]
        assert r["taxpayer_tin"] == d["matched_tin"]
        assert r["disclosed_at"] == d["decided_at"]
        assert r["recipient_agency"] == "Immigration enforcement agency"
        assert r["legal_basis"] == "6103(i)(2)"
        assert r["statutory_authority"] == payloads[r["request_id"]]["statutory_authority"]
        assert r["purpose"] == payloads[r["request_id"]]["reason"]
        assert r["approved_by"] == AUTOMATIC_APPROVAL
        expected = "last_known_address" if d["code"] == "ADDRESS_DIFFERS" else \
            "verification_code"
        assert r["disclosed_fields"] == expected


def test_every_disclosure_event_has_its_record(ran: RanBatch) -> None:
    events = AuditLog(ran.services.store).read(limit=100_000)
    disclosed = {e["request_id"] for e in events if e["event_type"] == "disclosure"}
    assert disclosed == {r["request_id"] for r in all_records(ran)}


def test_the_taxpayer_question_accepts_dashes_and_is_audited(ran: RanBatch) -> None:
    record = all_records(ran)[0]
    tin = record["taxpayer_tin"]
    dashed = f"{tin[:3]}-{tin[3:5]}-{tin[5:]}"
    found = taxpayer_disclosures(ran.services.store, dashed)
    assert record["id"] in {r["id"] for r in found}
    assert all(r["taxpayer_tin"] == tin for r in found)
    last = AuditLog(ran.services.store).read(limit=100_000)[-1]
    assert last["event_type"] == "accounting.taxpayer_query"
    assert tin not in last["details"] and tin[-4:] in last["details"]
    with pytest.raises(InputError):
        taxpayer_disclosures(ran.services.store, "12-34")


def test_accounting_rows_cannot_be_deleted_or_rewritten(ran: RanBatch) -> None:
    engine = ran.services.store.engine
    for statement in ("DELETE FROM disclosure_accounting",
                      "UPDATE disclosure_accounting SET taxpayer_tin = '000000000'",
                      "UPDATE disclosure_accounting SET approved_by = 'x'"):
        with pytest.raises(DBAPIError), engine.begin() as conn:
            conn.exec_driver_sql(statement)
    assert len(all_records(ran)) > 50


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_export_for_a_period(ran: RanBatch, tmp_path: Path, fmt: str) -> None:
    today = datetime.now(UTC).date()
    out = tmp_path / f"accounting.{fmt}"
    n = export_accounting(ran.services.store, start=today, end=today, out=out, fmt=fmt)
    assert n == len(all_records(ran))
    if fmt == "csv":
        with out.open(newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
    else:
        rows = json.loads(out.read_text(encoding="utf-8"))["disclosures"]
    assert len(rows) == n and rows[0]["recipient_agency"] == "Immigration enforcement agency"
    empty = tmp_path / "before.csv"
    assert export_accounting(ran.services.store, start=today - timedelta(days=30),
                             end=today - timedelta(days=1), out=empty) == 0
    with pytest.raises(InputError, match="before"):
        export_accounting(ran.services.store, start=today, end=today - timedelta(days=1),
                          out=empty)


def test_record_text_fields_are_trimmed_and_fields_named() -> None:
    rec = disclosure_record(tin="123456789", batch_id="B", request_id="R", recipient_agency="A",
                            legal_basis="6103(i)(2)", agreement_id="AG", agreement_version="v",
                            request_fields={"statutory_authority": "  8 U.S.C. 1253(a)(1) ",
                                            "reason": ""},
                            disclosed={"street": "1 MAIN ST", "zip": "12345"},
                            approved_by="reviewer-1")
    assert rec["statutory_authority"] == "8 U.S.C. 1253(a)(1)"
    assert rec["purpose"] is None
    assert (rec["disclosed_fields"], rec["approved_by"]) == ("last_known_address", "reviewer-1")




def test_cli_taxpayer_and_export(ran: RanBatch, tmp_path: Path,
                                 cli: Callable[..., tuple[int, str]],
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "250")
    url = ran.settings.resolved_database_url()
    tin = all_records(ran)[0]["taxpayer_tin"]
    code, output = cli("accounting", "taxpayer", f"{tin[:3]}-{tin[3:5]}-{tin[5:]}",
                       "--database", url)
    assert code == 0 and f"***-**-{tin[-4:]}" in output and "6103(i)(2)" in output
    code, output = cli("accounting", "taxpayer", "999-99-9999", "--database", url)
    assert code == 0 and "No disclosure" in output
    today = datetime.now(UTC).date().isoformat()
    out = tmp_path / "report.csv"
    code, output = cli("accounting", "export", "--from", today, "--to", today, "--out", str(out),
                       "--database", url)
    assert code == 0 and out.exists() and "written to" in output
    code, output = cli("accounting", "export", "--from", today, "--to", today, "--out", str(out),
                       "--format", "xml", "--database", url)
    assert code == 2 and "csv, json" in output


def test_accounting_triggers_on_both_engines(store: Store) -> None:
    record = disclosure_record(tin="123456789", batch_id="B", request_id="R",
                               recipient_agency="A", legal_basis="6103(i)(2)",
                               agreement_id="AG", agreement_version="v",
                               request_fields={}, disclosed={})
    with store.writing() as conn:
        conn.execute(DISCLOSURE_ACCOUNTING.insert().values(
            **record, disclosed_at=datetime.now(UTC)))
    for statement in ("DELETE FROM disclosure_accounting",
                      "UPDATE disclosure_accounting SET purpose = 'x'"):
        with pytest.raises(DBAPIError), store.engine.begin() as conn:
            conn.exec_driver_sql(statement)
    with store.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE disclosure_accounting SET incident_id = 'INC-1'")
    with store.reading() as conn:
        assert accounting_for_taxpayer(conn, "123456789")[0]["incident_id"] == "INC-1"
