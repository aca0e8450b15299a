"""Does the store hold what a crash must never break? A checker for tests and operators.

    report = check_store(store)              # every batch; or check_store(store, batch_id="B-...")
    assert report.ok, report.problems

For every batch checked:
- every request has exactly one decision (the table's key allows at most one; none is missing
  once the batch is done), and no decision lacks its request;
- the batch was received once: one `batch.received` event, naming as many rows as the batch
  has requests and the digest of their request_ids in row order (audit/digests.py), which the
  stored requests must give;
- one outcome event per decision (`request.decided`, or `request.gated` with outcome failure
  for a rejection), and none for a request without a decision;
- at most one accounting record of a disclosure per request, and exactly as many `disclosure`
  events as accounting records (a disclosure is accounted for once, and logged once);
- a done batch was answered once: one `batch.completed`, naming as many responses as the batch
  has requests (none before it is done).
A batch recorded before the batch-level digests (its `batch.received` names no digest) is held
to the per-request events of that time instead: one `request.received` per request and, once
done, one `request.responded` per request. Finally the audit chain verifies.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.engine import Connection

from matchgate.audit.chain import AuditLog
from matchgate.audit.digests import request_ids_digest
from matchgate.audit.events import EventType, RetiredEventType
from matchgate.store import Store
from matchgate.store.models import (
    AUDIT_EVENTS,
    BATCHES,
    DECISIONS,
    DISCLOSURE_ACCOUNTING,
    REQUESTS,
)

SHOWN = 5  # request ids named per problem


@dataclass
class ConsistencyReport:
    batches: int = 0
    requests: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        if self.ok:
            return f"{self.batches} batches, {self.requests} requests: consistent"
        return f"{len(self.problems)} problems: " + "; ".join(self.problems)


def _named(ids: Iterable[str]) -> str:
    ids = sorted(ids)
    more = f" and {len(ids) - SHOWN} more" if len(ids) > SHOWN else ""
    return ", ".join(ids[:SHOWN]) + more


def _counts(conn: Connection, batch_id: str, *conditions: Any) -> Counter[str]:
    query = (select(AUDIT_EVENTS.c.request_id, func.count())
             .where(AUDIT_EVENTS.c.batch_id == batch_id, *conditions)
             .group_by(AUDIT_EVENTS.c.request_id))
    return Counter({str(rid): int(n) for rid, n in conn.execute(query) if rid is not None})


def _ids(conn: Connection, table: Any, batch_id: str, *, order_by: Any = None) -> list[str]:
    """The batch's request_ids in the table (in the order given, if one is)."""
    query = select(table.c.request_id).where(table.c.batch_id == batch_id)
    if order_by is not None:
        query = query.order_by(order_by)
    return [str(r) for r in conn.execute(query).scalars()]


def _exactly_once(report: ConsistencyReport, batch_id: str, what: str,
                  counts: Counter[str], expected: set[str]) -> None:
    missing = expected - set(counts)
    twice = {rid for rid, n in counts.items() if n > 1}
    stray = set(counts) - expected
    if missing:
        report.problems.append(f"batch {batch_id}: no {what} for {_named(missing)}")
    if twice:
        report.problems.append(f"batch {batch_id}: {what} more than once for {_named(twice)}")
    if stray:
        report.problems.append(f"batch {batch_id}: {what} for requests without one due: "
                               f"{_named(stray)}")


def _details(conn: Connection, batch_id: str, event_type: str) -> list[dict[str, Any]]:
    """The details of the batch's events of this type, oldest first."""
    query = (select(AUDIT_EVENTS.c.details)
             .where(AUDIT_EVENTS.c.batch_id == batch_id, AUDIT_EVENTS.c.event_type == event_type)
             .order_by(AUDIT_EVENTS.c.seq))
    return [json.loads(text) for text in conn.execute(query).scalars()]


def _check_received(report: ConsistencyReport, batch_id: str, received: dict[str, Any],
                    requests: list[str]) -> None:
    """The batch.received event names the stored requests: their number and the digest of
    their request_ids in row order."""
    if received.get("rows") != len(requests):
        report.problems.append(f"batch {batch_id}: batch.received names {received.get('rows')} "
                               f"rows, the store holds {len(requests)} requests")
    elif received["requests_sha256"] != request_ids_digest(requests):
        report.problems.append(f"batch {batch_id}: the stored requests' ids differ from those "
                               "received (batch.received's requests_sha256)")


def _check_batch(conn: Connection, report: ConsistencyReport, batch_id: str,
                 status: str) -> None:
    requests = _ids(conn, REQUESTS, batch_id, order_by=REQUESTS.c.row_number)
    decided = _ids(conn, DECISIONS, batch_id)
    report.requests += len(requests)
    if stray := set(decided) - set(requests):
        report.problems.append(f"batch {batch_id}: decisions without a request: {_named(stray)}")
    if status == "done" and (undecided := set(requests) - set(decided)):
        report.problems.append(f"batch {batch_id} is done, but undecided: {_named(undecided)}")
    events = AUDIT_EVENTS.c
    received = _details(conn, batch_id, EventType.BATCH_RECEIVED)
    digested = len(received) == 1 and "requests_sha256" in received[0]
    if digested:
        _check_received(report, batch_id, received[0], requests)
    elif received:  # recorded before the digests: a request.received event per request
        _exactly_once(report, batch_id, RetiredEventType.REQUEST_RECEIVED,
                      _counts(conn, batch_id,
                              events.event_type == RetiredEventType.REQUEST_RECEIVED),
                      set(requests))
    if len(received) != 1:
        report.problems.append(f"batch {batch_id} has {len(received)} batch.received events")
    outcome = (events.event_type == EventType.REQUEST_DECIDED) | (
        (events.event_type == EventType.REQUEST_GATED) & (events.outcome == "failure"))
    _exactly_once(report, batch_id, "decision event", _counts(conn, batch_id, outcome),
                  set(decided))
    responded = _counts(conn, batch_id, events.event_type == RetiredEventType.REQUEST_RESPONDED)
    _exactly_once(report, batch_id, RetiredEventType.REQUEST_RESPONDED, responded,
                  set(requests) if status == "done" and not digested else set())
    completed = _details(conn, batch_id, EventType.BATCH_COMPLETED)
    if len(completed) != (1 if status == "done" else 0):
        report.problems.append(f"batch {batch_id} ({status}) has {len(completed)} "
                               "batch.completed events")
    elif completed and digested and completed[0].get("responses") != len(requests):
        report.problems.append(f"batch {batch_id}: batch.completed names "
                               f"{completed[0].get('responses')} responses for "
                               f"{len(requests)} requests")
    accounted = Counter(_ids(conn, DISCLOSURE_ACCOUNTING, batch_id))
    if twice := {rid for rid, n in accounted.items() if n > 1}:
        report.problems.append(f"batch {batch_id}: disclosed more than once (accounting): "
                               f"{_named(twice)}")
    disclosed = _counts(conn, batch_id, events.event_type == EventType.DISCLOSURE)
    if differ := {rid for rid in set(accounted) | set(disclosed)
                  if accounted[rid] != disclosed[rid]}:
        report.problems.append(f"batch {batch_id}: disclosure events and accounting records "
                               f"differ for {_named(differ)}")


def check_store(store: Store, *, batch_id: str | None = None) -> ConsistencyReport:
    """Check every batch (or one) from one snapshot of the store, then the audit chain."""
    report = ConsistencyReport()
    query = select(BATCHES.c.batch_id, BATCHES.c.status).order_by(BATCHES.c.batch_id)
    if batch_id is not None:
        query = query.where(and_(BATCHES.c.batch_id == batch_id))
    with store.reading(snapshot=True) as conn:
        for bid, status in conn.execute(query).all():
            report.batches += 1
            _check_batch(conn, report, str(bid), str(status))
    chain = AuditLog(store).verify()
    if not chain.ok:
        report.problems.append(f"audit chain: {chain.problem}")
    return report
