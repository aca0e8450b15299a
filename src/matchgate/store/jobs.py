"""Batches uploaded through the API: the work queue and the release state.

A worker claims a job with a lease (`claim_job`); a job whose lease lapsed (its worker died) is
claimable again. On PostgreSQL the candidate row is taken with `FOR UPDATE SKIP LOCKED`; on
SQLite the writing transaction (BEGIN IMMEDIATE) serializes claimers. On both, the UPDATE repeats
the claimable condition, so exactly one claimer wins.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError

from matchgate.store.errors import StoreConflict, StoreNotFound
from matchgate.store.models import BATCH_JOBS, BATCHES, DECISIONS
from matchgate.store.store import Store

#: every column but the uploaded bytes
JOB_COLUMNS = [c for c in BATCH_JOBS.c if c.name != "content"]


def now() -> datetime:
    return datetime.now(UTC)


def submit_job(store: Store, *, batch_id: str, agency: str, agreement_id: str,
               agreement_version: str, submitted_by: str, idempotency_key: str | None,
               source_name: str, content: bytes, manifest: dict[str, Any],
               release: str) -> tuple[dict[str, Any], bool]:
    """Queue a batch; returns (job, created). The same idempotency key (per agency) or the same
    content returns the job first stored, with created=False."""
    first = find_job(store, agency=agency, idempotency_key=idempotency_key, batch_id=batch_id)
    if first is not None:
        return first, False
    row = {"batch_id": batch_id, "agency": agency, "agreement_id": agreement_id,
           "agreement_version": agreement_version, "submitted_by": submitted_by,
           "idempotency_key": idempotency_key, "source_name": source_name, "content": content,
           "manifest": manifest, "status": "queued", "attempts": 0, "release": release,
           "created_at": now()}
    try:
        with store.writing() as conn:
            conn.execute(BATCH_JOBS.insert().values(**row))
    except IntegrityError:
        first = find_job(store, agency=agency, idempotency_key=idempotency_key,
                         batch_id=batch_id)
        if first is None:
            raise
        return first, False
    job = get_job(store, batch_id=batch_id)
    assert job is not None
    return job, True


def find_job(store: Store, *, agency: str, idempotency_key: str | None,
             batch_id: str) -> dict[str, Any] | None:
    cond = BATCH_JOBS.c.batch_id == batch_id
    if idempotency_key is not None:
        cond = or_(cond, (BATCH_JOBS.c.agency == agency)
                   & (BATCH_JOBS.c.idempotency_key == idempotency_key))
    query = select(*JOB_COLUMNS).where(cond).order_by(BATCH_JOBS.c.created_at).limit(1)
    with store.reading() as conn:
        row = conn.execute(query).mappings().first()
    return dict(row) if row is not None else None


def get_job(store: Store, *, batch_id: str) -> dict[str, Any] | None:
    with store.reading() as conn:
        row = conn.execute(select(*JOB_COLUMNS).where(BATCH_JOBS.c.batch_id == batch_id)
                           ).mappings().first()
    return dict(row) if row is not None else None


def job_content(store: Store, *, batch_id: str) -> bytes:
    with store.reading() as conn:
        content: bytes | None = conn.execute(
            select(BATCH_JOBS.c.content).where(BATCH_JOBS.c.batch_id == batch_id)
        ).scalar_one_or_none()
    if content is None:
        raise StoreNotFound(f"batch {batch_id!r} does not exist")
    return content


def list_jobs(store: Store, *, agency: str | None = None, limit: int = 200
              ) -> list[dict[str, Any]]:
    query = select(*JOB_COLUMNS).order_by(BATCH_JOBS.c.created_at.desc()).limit(limit)
    if agency is not None:
        query = query.where(BATCH_JOBS.c.agency == agency)
    with store.reading() as conn:
        return [dict(r) for r in conn.execute(query).mappings()]


def decided_count(store: Store, *, batch_id: str) -> int:
    query = select(func.count()).select_from(DECISIONS).where(DECISIONS.c.batch_id == batch_id)
    with store.reading() as conn:
        return int(conn.execute(query).scalar_one())


def _claimable(at: datetime) -> Any:
    return or_(BATCH_JOBS.c.status == "queued",
               (BATCH_JOBS.c.status == "running") & (BATCH_JOBS.c.lease_until < at))


def claim_job(store: Store, *, worker: str, lease: timedelta, batch_id: str | None = None
              ) -> str | None:
    """Take the oldest claimable job (or the one named) for `worker`; None when there is none."""
    at = now()
    pick = (select(BATCH_JOBS.c.batch_id).where(_claimable(at))
            .order_by(BATCH_JOBS.c.created_at, BATCH_JOBS.c.batch_id).limit(1))
    if batch_id is not None:
        pick = pick.where(BATCH_JOBS.c.batch_id == batch_id)
    if store.dialect == "postgresql":
        pick = pick.with_for_update(skip_locked=True)
    with store.writing() as conn:
        picked: str | None = conn.execute(pick).scalar_one_or_none()
        if picked is None:
            return None
        taken = conn.execute(
            update(BATCH_JOBS).where(BATCH_JOBS.c.batch_id == picked, _claimable(at))
            .values(status="running", worker=worker, lease_until=at + lease,
                    attempts=BATCH_JOBS.c.attempts + 1))
        return picked if taken.rowcount == 1 else None


def renew_lease(store: Store, *, batch_id: str, worker: str, lease: timedelta) -> bool:
    """Extend the worker's lease; False if the job is no longer this worker's."""
    with store.writing() as conn:
        done = conn.execute(
            update(BATCH_JOBS).where(BATCH_JOBS.c.batch_id == batch_id,
                                     BATCH_JOBS.c.worker == worker,
                                     BATCH_JOBS.c.status == "running")
            .values(lease_until=now() + lease))
        return done.rowcount == 1


def release_job(store: Store, *, batch_id: str, worker: str, note: str) -> bool:
    """Give the worker's running job back to the queue (a pause, not a failure: the next claim
    resumes it), noting why in `error`; False if the job is no longer this worker's."""
    with store.writing() as conn:
        done = conn.execute(
            update(BATCH_JOBS).where(BATCH_JOBS.c.batch_id == batch_id,
                                     BATCH_JOBS.c.worker == worker,
                                     BATCH_JOBS.c.status == "running")
            .values(status="queued", worker=None, lease_until=None, error=note[:1000]))
        return done.rowcount == 1


def finish_job(store: Store, *, batch_id: str, worker: str, error: str | None = None) -> None:
    """Mark the worker's job done (or failed, with the error for people)."""
    with store.writing() as conn:
        conn.execute(
            update(BATCH_JOBS).where(BATCH_JOBS.c.batch_id == batch_id,
                                     BATCH_JOBS.c.worker == worker)
            .values(status="failed" if error else "done", error=error, lease_until=None,
                    finished_at=now()))


def set_release(store: Store, *, batch_id: str, release: str, by: str, reason: str) -> None:
    """Sign a finished batch off (released) or refuse it; only once, only when awaited."""
    with store.writing() as conn:
        done = conn.execute(
            update(BATCH_JOBS).where(BATCH_JOBS.c.batch_id == batch_id,
                                     BATCH_JOBS.c.status == "done",
                                     BATCH_JOBS.c.release == "awaiting_signoff")
            .values(release=release, release_by=by, release_reason=reason))
        if done.rowcount != 1:
            raise StoreConflict(f"batch {batch_id!r} is not finished and awaiting sign-off")


def progress_of(store: Store, batch_ids: list[str]) -> dict[str, tuple[int | None, int]]:
    """(rows, decided) of each batch, in two queries (rows is None until a worker read it)."""
    if not batch_ids:
        return {}
    with store.reading() as conn:
        rows = dict(conn.execute(select(BATCHES.c.batch_id, BATCHES.c.row_count)
                                 .where(BATCHES.c.batch_id.in_(batch_ids))).all())
        counted = conn.execute(select(DECISIONS.c.batch_id, func.count())
                               .where(DECISIONS.c.batch_id.in_(batch_ids))
                               .group_by(DECISIONS.c.batch_id)).all()
    decided: dict[str, int] = {b: int(n) for b, n in counted}
    return {b: (rows.get(b), decided.get(b, 0)) for b in batch_ids}
