"""After the load: wait for the workers to finish what was acknowledged, then prove from the
store that nothing was lost or doubled and that the audit chain holds.

Each invariant is a name, whether it held, and (when it did not) a few examples.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select

from bench.load.driver import Acknowledged
from matchgate.audit import AuditLog
from matchgate.store import Store, jobs
from matchgate.store.models import AUDIT_EVENTS, DECISIONS, DISCLOSURE_ACCOUNTING, REVIEWS

Key = tuple[str, str]
#: the events that record a decision: a request the gate rejected, or one decided after matching
DECISION_EVENTS = {("request.gated", "failure"), ("request.decided", "success")}


def drain(store: Store, batch_ids: Iterable[str], *, timeout: float) -> list[str]:
    """Wait until every batch is done or failed; the ones still unfinished at the timeout."""
    waiting = set(batch_ids)
    deadline = time.monotonic() + timeout
    while waiting:
        waiting = {b for b in waiting
                   if (job := jobs.get_job(store, batch_id=b)) is None
                   or job["status"] not in ("done", "failed")}
        if not waiting or time.monotonic() > deadline:
            break
        time.sleep(1.0)
    return sorted(waiting)


def _invariant(name: str, bad: list[str], checked: int) -> dict[str, Any]:
    return {"invariant": name, "held": not bad, "checked": checked, "failures": len(bad),
            "examples": bad[:5]}


def _once(counts: Counter[Key], keys: Iterable[Key], what: str) -> list[str]:
    return [f"{b}/{r}: {counts.get((b, r), 0)} {what}" for b, r in keys
            if counts.get((b, r), 0) != 1]


def check(store: Store, ack: Acknowledged, *, unfinished: list[str]) -> list[dict[str, Any]]:
    with store.reading(snapshot=True) as conn:
        decisions = {(r.batch_id, r.request_id): r.code for r in conn.execute(
            select(DECISIONS.c.batch_id, DECISIONS.c.request_id, DECISIONS.c.code))}
        events = conn.execute(select(AUDIT_EVENTS.c.event_type, AUDIT_EVENTS.c.outcome,
                                     AUDIT_EVENTS.c.batch_id, AUDIT_EVENTS.c.request_id)
                              .where(AUDIT_EVENTS.c.request_id.is_not(None))).all()
        completions = conn.execute(select(AUDIT_EVENTS.c.batch_id, AUDIT_EVENTS.c.details)
                                   .where(AUDIT_EVENTS.c.event_type == "batch.completed")).all()
        released = {(r.batch_id, r.request_id): (r.released or {}).get("code")
                    for r in conn.execute(select(REVIEWS.c.batch_id, REVIEWS.c.request_id,
                                                 REVIEWS.c.released)
                                          .where(REVIEWS.c.outcome.is_not(None)))}
        accounting = Counter((r.batch_id, r.request_id) for r in conn.execute(
            select(DISCLOSURE_ACCOUNTING.c.batch_id, DISCLOSURE_ACCOUNTING.c.request_id)))
    decided = Counter((e.batch_id, e.request_id) for e in events
                      if (e.event_type, e.outcome) in DECISION_EVENTS)
    # a batch is answered by one batch.completed naming its number of responses
    # (audit/digests.py)
    completed: dict[str, list[Any]] = {}
    for batch_id, details in completions:
        completed.setdefault(batch_id, []).append(json.loads(details).get("responses"))
    review_events = Counter((e.batch_id, e.request_id) for e in events
                            if e.event_type == "review.decided")
    disclosures = Counter((e.batch_id, e.request_id) for e in events
                          if e.event_type == "disclosure")
    submitted = {**ack.batches, **{b: [rid] for b, (rid, _) in ack.singles.items()}}
    stored = Counter(b for b, _ in decisions)
    lost = [f"{b}: {stored.get(b, 0)} decisions for {len(ids)} requests"
            for b, ids in submitted.items()
            if stored.get(b, 0) != len(ids) or any((b, r) not in decisions for r in ids)]
    # the answer is the decision, or the review's once a reviewer decided it (a reviewer may
    # decide a single request in the review band before its answer is read back)
    answers = [f"{b}/{rid}: answered {code}, stored {decisions.get((b, rid))}"
               for b, (rid, code) in ack.singles.items()
               if code is not None and code not in (decisions.get((b, rid)),
                                                    released.get((b, rid)))]
    reviewed = list(released)
    missing_reviews = [f"{b}/{r}: acknowledged, not stored" for b, r in ack.reviews
                       if (b, r) not in released]
    keys = set(accounting) | set(disclosures)
    report = AuditLog(store).verify()
    return [
        _invariant("every acknowledged batch finished", unfinished, len(submitted)),
        _invariant("every submitted request has exactly one decision", lost,
                   sum(len(ids) for ids in submitted.values())),
        _invariant("every single request was answered with its stored decision", answers,
                   len(ack.singles)),
        _invariant("every decision has exactly one decision event",
                   _once(decided, decisions, "decision events"), len(decisions)),
        _invariant("every batch was answered once (one batch.completed naming each decision)",
                   [f"{b}: batch.completed {completed.get(b, [])} for {n} decisions"
                    for b, n in stored.items() if completed.get(b) != [n]], len(stored)),
        _invariant("every review decision is stored and has exactly one audit event",
                   missing_reviews + _once(review_events, reviewed, "review events"),
                   len(reviewed)),
        _invariant("every disclosure has one accounting record and one disclosure event",
                   [f"{b}/{r}: {accounting.get((b, r), 0)} records, "
                    f"{disclosures.get((b, r), 0)} events" for b, r in sorted(keys)
                    if accounting.get((b, r), 0) != 1 or disclosures.get((b, r), 0) != 1],
                   len(keys)),
        _invariant("the audit chain verifies", [] if report.ok else [report.summary()],
                   report.events),
        _invariant("the clients saw every answer once", ack.problems,
                   len(ack.batches) + len(ack.singles)),
    ]
