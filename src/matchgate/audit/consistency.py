"""Does the store hold what a crash must never break? A checker for tests and operators.

    report = check_store(store)              # every batch; or check_store(store, batch_id="B-...")
    assert report.ok, report.problems

For every batch checked:
- every request has exactly one decision (the table's key allows at most one; none is missing
  once the batch is done), and no decision lacks its request;
- every request has exactly one `request.received` event and one outcome event
  (`request.decided`, or `request.gated` with outcome failure for a rejection) per decision;
- at most one accounting record of a disclosure per request, and exactly as many `disclosure`
  events as accounting records (a disclosure is accounted for once, and logged once);
- a done batch answered each request once: exactly one `request.responded` per request (none
  before it is done) and one `batch.completed`.
Finally the audit chain verifies.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.engine import Connection

from matchgate.audit.chain import AuditLog
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


def _ids(conn: Connection, table: Any, batch_id: str) -> list[str]:
    return [str(r) for r in conn.execute(
        select(table.c.request_id).where(table.c.batch_id == batch_id)).scalars()]


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


def _check_batch(conn: Connection, report: ConsistencyReport, batch_id: str,
                 status: str) -> None:
    requests = _ids(conn, REQUESTS, batch_id)
    decided = _ids(conn, DECISIONS, batch_id)
    report.requests += len(requests)
    if stray := set(decided) - set(requests):
        report.problems.append(f"batch {batch_id}: decisions without a request: {_named(stray)}")
    if status == "done" and (undecided := set(requests) - set(decided)):
        report.problems.append(f"batch {batch_id} is done, but undecided: {_named(undecided)}")
    events = AUDIT_EVENTS.c
    _exactly_once(report, batch_id, "request.received",
                  _counts(conn, batch_id, events.event_type == "request.received"), set(requests))
    outcome = (events.event_type == "request.decided") | (
        (events.event_type == "request.gated") & (events.outcome == "failure"))
    _exactly_once(report, batch_id, "decision event", _counts(conn, batch_id, outcome),
                  set(decided))
    responded = _counts(conn, batch_id, events.event_type == "request.responded")
    _exactly_once(report, batch_id, "request.responded", responded,
                  set(requests) if status == "done" else set())
    completed = conn.execute(select(func.count()).where(
        events.batch_id == batch_id, events.event_type == "batch.completed")).scalar_one()
    if completed != (1 if status == "done" else 0):
        report.problems.append(f"batch {batch_id} ({status}) has {completed} batch.completed "
                               "events")
    accounted = Counter(_ids(conn, DISCLOSURE_ACCOUNTING, batch_id))
    if twice := {rid for rid, n in accounted.items() if n > 1}:
        report.problems.append(f"batch {batch_id}: disclosed more than once (accounting): "
                               f"{_named(twice)}")
    disclosed = _counts(conn, batch_id, events.event_type == "disclosure")
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
