"""The record path under faults, in process, on SQLite and PostgreSQL: bulk inserts write what
SQLAlchemy would, a write that fails leaves neither the rows nor their audit events, and the
consistency checker catches what a crash could break."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from matchgate.audit import AuditEvent, AuditLog
from matchgate.audit.consistency import check_store
from matchgate.audit.digests import request_ids_digest
from matchgate.store import Store, StoreConflict
from matchgate.store.bulk import insert_rows
from matchgate.store.models import DECISIONS, REQUESTS

BATCH = "B-faults"


def event(kind: str, request_id: str | None = None, **details: Any) -> AuditEvent:
    return AuditEvent(kind, actor="test", role="service", origin="test", batch_id=BATCH,
                      request_id=request_id, details=details)


def decision(request_id: str, code: str = "NO_MATCH", **extra: Any) -> dict[str, Any]:
    return {"request_id": request_id, "code": code, "reason": None, "agreement_version": "v1",
            "decided_by": "matchgate", "evidence": {"é": [1, 2.5, None]}, **extra}


def stored_batch(store: Store, n: int = 3, *, legacy: bool = False) -> list[str]:
    """A batch of n requests as the pipeline stores it: one batch.received naming them by
    digest; `legacy`, as stored before the digests (a request.received event per request)."""
    ids = [f"r{i}" for i in range(n)]
    received = ([event("batch.received"), *(event("request.received", rid) for rid in ids)]
                if legacy else [event("batch.received", rows=n,
                                      requests_sha256=request_ids_digest(ids))])
    store.create_batch(
        batch_id=BATCH, agreement_id="A", agreement_version="v1", manifest={}, source_name="x",
        row_count=n, submitted_by="",
        also=lambda conn: AuditLog(store).append_in(conn, received),
        requests=[{"request_id": rid, "row_number": i + 1, "payload": {"first_name": "Ana"},
                   "dedupe_key": f"k{i}"} for i, rid in enumerate(ids)])
    return ids


def answered(store: Store, ids: list[str], **completed: Any) -> None:
    """Each request decided (NO_MATCH, with its event), then the batch done with its
    batch.completed event (details `completed`)."""
    store.record_decisions(batch_id=BATCH, decisions=[decision(rid) for rid in ids],
                           also=lambda conn: AuditLog(store).append_in(
                               conn, [event("request.decided", rid) for rid in ids]))
    store.set_batch_status(batch_id=BATCH, status="running")
    store.set_batch_status(batch_id=BATCH, status="done", also=lambda conn: AuditLog(
        store).append_in(conn, [event("batch.completed", **completed)]))


def test_bulk_insert_writes_what_sqlalchemy_writes(store: Store) -> None:
    stored_batch(store, 4)
    at = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
    row = {"batch_id": BATCH, "code": "VERIFIED", "reason": None, "matched_tin": "123456789",
           "match_probability": 0.97, "runner_up_probability": None,
           "disclosed": {"street": "1 Main St"}, "evidence": {"w": [1.5, None], "t": "ñ"},
           "agreement_version": "v1", "master_version": None, "decided_by": "matchgate",
           "decided_at": at}
    columns = list(row)
    with store.writing() as conn:
        conn.execute(DECISIONS.insert(), [{**row, "request_id": "r0"}])
        # the same objects in consecutive rows (converted once), then other ones
        other = {**row, "evidence": {"w": [2.5]}, "decided_at": at.replace(microsecond=1)}
        insert_rows(conn, DECISIONS, [*columns, "request_id"],
                    [[*row.values(), "r1"], [*row.values(), "r2"], [*other.values(), "r3"]])
    with store.reading() as conn:
        got = [dict(r) for r in conn.execute(select(DECISIONS).order_by(
            DECISIONS.c.request_id)).mappings()]
    assert got[0] == {**got[1], "request_id": "r0"} == {**got[2], "request_id": "r0"}
    assert got[1]["decided_at"] == at and got[1]["evidence"] == row["evidence"]
    assert (got[3]["evidence"], got[3]["decided_at"]) == (other["evidence"], other["decided_at"])


def test_a_refused_decision_leaves_no_events_behind(store: Store) -> None:
    ids = stored_batch(store)
    log = AuditLog(store)
    store.record_decisions(batch_id=BATCH, decisions=[decision(ids[0])],
                           also=lambda conn: log.append_in(conn, [
                               event("request.decided", ids[0])]))
    head = log.head()
    with pytest.raises(StoreConflict):  # ids[0] is decided already: the whole call is refused
        store.record_decisions(batch_id=BATCH, decisions=[decision(ids[1]), decision(ids[0])],
                               also=lambda conn: log.append_in(conn, [
                                   event("request.decided", ids[1]),
                                   event("request.decided", ids[0])]))
    assert log.head() == head
    assert store.decided_request_ids(batch_id=BATCH) == {ids[0]}
    assert check_store(store).ok


def test_a_failing_audit_write_takes_the_decisions_with_it(store: Store) -> None:
    ids = stored_batch(store)

    def fail(_conn: object) -> None:
        raise RuntimeError("the process dies here")

    with pytest.raises(RuntimeError):
        store.record_decisions(batch_id=BATCH, decisions=[decision(ids[0])], also=fail)
    assert store.decided_request_ids(batch_id=BATCH) == set()
    with pytest.raises(RuntimeError):  # nor is a batch stored without its receipt's events
        store.create_batch(batch_id="B-other", agreement_id="A", agreement_version="v1",
                           manifest={}, source_name="x", row_count=0, submitted_by="",
                           requests=[], also=fail)
    assert store.get_batch(batch_id="B-other") is None


def test_the_checker_names_what_a_crash_could_break(store: Store) -> None:
    ids = stored_batch(store)
    log = AuditLog(store)
    assert check_store(store).ok  # received, nothing decided yet: consistent
    store.record_decisions(batch_id=BATCH, decisions=[decision(ids[0])])  # no events
    log.append([event("request.decided", ids[1]), event("request.decided", ids[1]),
                event("disclosure", ids[1], fields=["verification_code"]),
                event("request.responded", ids[2])])
    problems = " | ".join(check_store(store).problems)
    assert f"no decision event for {ids[0]}" in problems
    assert f"decision event for requests without one due: {ids[1]}" in problems
    assert f"disclosure events and accounting records differ for {ids[1]}" in problems
    assert f"request.responded for requests without one due: {ids[2]}" in problems


def test_the_checker_holds_the_batch_events_to_the_stored_requests(store: Store) -> None:
    ids = stored_batch(store)
    answered(store, ids, responses=3)
    assert check_store(store).ok, check_store(store).problems
    # a request added to the store afterwards: the count no longer agrees
    store.add_requests(batch_id=BATCH, rows=[{"request_id": "r9", "row_number": 4,
                                             "payload": {}, "dedupe_key": "k9"}])
    problems = " | ".join(check_store(store).problems)
    assert f"batch {BATCH}: batch.received names 3 rows, the store holds 4 requests" in problems
    assert f"batch {BATCH}: batch.completed names 3 responses for 4 requests" in problems


def test_the_checker_detects_a_renamed_request(store: Store) -> None:
    ids = stored_batch(store)  # received, nothing decided yet: consistent
    assert check_store(store).ok, check_store(store).problems
    with store.writing() as conn:  # an id changes, their number does not
        conn.execute(REQUESTS.update().where(REQUESTS.c.request_id == ids[1])
                     .values(request_id="r1-renamed"))
    problems = " | ".join(check_store(store).problems)
    assert "the stored requests' ids differ from those received" in problems


def test_the_checker_wants_one_receipt_and_one_completion(store: Store) -> None:
    ids = stored_batch(store)
    answered(store, ids, responses=3)
    AuditLog(store).append([event("batch.completed", responses=3),
                            event("request.responded", ids[0])])
    problems = " | ".join(check_store(store).problems)
    assert f"batch {BATCH} (done) has 2 batch.completed events" in problems
    assert f"request.responded for requests without one due: {ids[0]}" in problems


def test_a_batch_stored_before_the_digests_is_checked_per_request(store: Store) -> None:
    ids = stored_batch(store, legacy=True)
    answered(store, ids)
    problems = " | ".join(check_store(store).problems)
    assert f"batch {BATCH}: no request.responded for {', '.join(ids)}" in problems
    AuditLog(store).append([event("request.responded", rid) for rid in ids])
    assert check_store(store).ok, check_store(store).problems


def test_cli_consistency_lists_each_problem_and_exits_4(store: Store, store_url: str,
                                                       cli: Any) -> None:
    ids = stored_batch(store)
    answered(store, ids, responses=3)
    code, output = cli("audit", "consistency", "--database", store_url)
    assert code == 0 and "1 batches, 3 requests: consistent" in output
    store.add_requests(batch_id=BATCH, rows=[{"request_id": "r9", "row_number": 4,
                                             "payload": {}, "dedupe_key": "k9"}])
    code, output = cli("audit", "consistency", "--database", store_url, "--batch", BATCH)
    assert code == 4, output
    assert "3 problem(s):" in output and "is done, but undecided: r9" in output
    assert "batch.received names 3 rows, the store holds 4 requests" in output
    assert "batch.completed names 3 responses for 4 requests" in output
    assert "Traceback" not in output
    code, output = cli("audit", "consistency", "--database", store_url, "--batch", "B-none")
    assert code == 2 and "no batch 'B-none'" in output
