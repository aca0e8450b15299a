"""Reviews of requests in the review band: a claim that lapses, then exactly one decision.

The decisions table keeps the machine's PENDING_REVIEW (one decision per request); a person's
outcome lives here, and the released answer is computed from both. Claims and decisions are
conditional UPDATEs (outcome still empty, claim held and not lapsed), so two reviewers can never
both decide an item: the second finds no row to update and gets a StoreConflict.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from matchgate.codes import Code
from matchgate.store.errors import StoreConflict, StoreNotFound
from matchgate.store.models import BATCH_JOBS, DECISIONS, DISCLOSURE_ACCOUNTING, REVIEWS
from matchgate.store.store import Also, Store

ITEM_COLUMNS = [DECISIONS.c.batch_id, DECISIONS.c.request_id, DECISIONS.c.reason,
                DECISIONS.c.match_probability, DECISIONS.c.runner_up_probability,
                DECISIONS.c.decided_at, REVIEWS.c.claimed_by, REVIEWS.c.claim_until,
                REVIEWS.c.outcome, BATCH_JOBS.c.agency]


def _items_query() -> Any:
    join = (DECISIONS
            .outerjoin(REVIEWS, and_(REVIEWS.c.batch_id == DECISIONS.c.batch_id,
                                     REVIEWS.c.request_id == DECISIONS.c.request_id))
            .outerjoin(BATCH_JOBS, BATCH_JOBS.c.batch_id == DECISIONS.c.batch_id))
    return select(*ITEM_COLUMNS).select_from(join).where(
        DECISIONS.c.code == Code.PENDING_REVIEW.value)


def pending_items(store: Store, *, batch_id: str | None = None, reason: str | None = None,
                  limit: int = 200) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """Items still waiting for a decision (oldest first) and the counts of all of them, by
    reason and by claim state."""
    query = _items_query().where(REVIEWS.c.outcome.is_(None))
    if batch_id is not None:
        query = query.where(DECISIONS.c.batch_id == batch_id)
    with store.reading() as conn:
        rows = [dict(r) for r in conn.execute(
            query.order_by(DECISIONS.c.decided_at, DECISIONS.c.batch_id,
                           DECISIONS.c.request_id)).mappings()]
    at = datetime.now(UTC)
    for r in rows:
        r["claimed"] = r["claim_until"] is not None and r["claim_until"] > at
    counts = Counter(f"reason:{r['reason']}" for r in rows)
    counts["total"] = len(rows)
    counts["claimed"] = sum(r["claimed"] for r in rows)
    shown = [r for r in rows if reason is None or r["reason"] == reason]
    return shown[:limit], dict(counts)


def review_item(store: Store, *, batch_id: str, request_id: str) -> dict[str, Any]:
    """The decision of an item in the review band with its review state (StoreNotFound if the
    request is not in the review band)."""
    query = _items_query().add_columns(
        DECISIONS.c.matched_tin, DECISIONS.c.evidence, REVIEWS.c.reason.label("review_reason"),
        REVIEWS.c.reviewer, REVIEWS.c.released, REVIEWS.c.decided_at.label("reviewed_at")
    ).where(DECISIONS.c.batch_id == batch_id, DECISIONS.c.request_id == request_id)
    with store.reading() as conn:
        row = conn.execute(query).mappings().first()
    if row is None:
        raise StoreNotFound(f"request {request_id!r} of batch {batch_id!r} is not in review")
    return dict(row)


def claim(store: Store, *, batch_id: str, request_id: str, reviewer: str,
          ttl: timedelta) -> datetime:
    """Claim an item for `reviewer` until now + ttl (renewing one's own claim is allowed)."""
    review_item(store, batch_id=batch_id, request_id=request_id)
    at = datetime.now(UTC)
    until = at + ttl
    insert = (postgresql.insert(REVIEWS) if store.dialect == "postgresql"
              else sqlite.insert(REVIEWS))
    with store.writing() as conn:
        made = conn.execute(insert.values(batch_id=batch_id, request_id=request_id,
                                          claimed_by=reviewer, claim_until=until)
                            .on_conflict_do_nothing())
        if made.rowcount == 1:
            return until
        taken = conn.execute(update(REVIEWS).where(
            REVIEWS.c.batch_id == batch_id, REVIEWS.c.request_id == request_id,
            REVIEWS.c.outcome.is_(None),
            or_(REVIEWS.c.claimed_by == reviewer, REVIEWS.c.claim_until < at,
                REVIEWS.c.claimed_by.is_(None))
        ).values(claimed_by=reviewer, claim_until=until))
        if taken.rowcount != 1:
            raise StoreConflict(f"request {request_id!r} is already decided or claimed by "
                                "another reviewer")
    return until


def decide(store: Store, *, batch_id: str, request_id: str, reviewer: str, outcome: str,
           reason: str, released: dict[str, Any], accounting: dict[str, Any] | None = None,
           also: Also | None = None) -> None:
    """Record the reviewer's outcome; the reviewer must hold a live claim and the item must
    still be undecided, else StoreConflict and nothing is written. An approval that discloses
    writes its accounting record (6103(p)(3)) in the same transaction, dated now, and so does
    `also` (the decision's audit events)."""
    at = datetime.now(UTC)
    with store.writing() as conn:
        done = conn.execute(update(REVIEWS).where(
            REVIEWS.c.batch_id == batch_id, REVIEWS.c.request_id == request_id,
            REVIEWS.c.outcome.is_(None), REVIEWS.c.claimed_by == reviewer,
            REVIEWS.c.claim_until > at
        ).values(outcome=outcome, reason=reason, reviewer=reviewer, released=released,
                 decided_at=at, claim_until=None))
        if done.rowcount != 1:
            raise StoreConflict(f"request {request_id!r}: no live claim of yours on an undecided "
                                "item (claim it first; another reviewer may have decided it)")
        if accounting is not None:
            conn.execute(DISCLOSURE_ACCOUNTING.insert().values(**accounting, disclosed_at=at))
        if also is not None:
            also(conn)


def decided_reviews(store: Store, *, batch_id: str) -> dict[str, dict[str, Any]]:
    query = select(REVIEWS).where(REVIEWS.c.batch_id == batch_id,
                                  REVIEWS.c.outcome.is_not(None))
    with store.reading() as conn:
        return {r["request_id"]: dict(r) for r in conn.execute(query).mappings()}
