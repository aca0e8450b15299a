"""Batches and their requests: the repository functions behind Store (one connection each)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from matchgate.store.bulk import insert_rows
from matchgate.store.errors import StoreConflict, StoreNotFound
from matchgate.store.models import BATCH_STATUSES, BATCHES, DECISIONS, REQUESTS

REQUEST_COLUMNS = ("batch_id", "request_id", "row_number", "payload", "dedupe_key")
#: keys per IN (...) list, well under SQLite's and PostgreSQL's parameter limits
CHUNK_KEYS = 2_000
#: after a write this large, PostgreSQL's planner statistics are refreshed at once (autovacuum
#: would do it later), so the next query on the new rows does not plan for an empty table
ANALYZE_AFTER_ROWS = 5_000
#: allowed status changes; a batch that is done stays done
TRANSITIONS: dict[str, frozenset[str]] = {
    "received": frozenset({"running", "failed"}),
    "running": frozenset({"running", "done", "failed"}),
    "failed": frozenset({"running", "failed"}),
    "done": frozenset(),
}

T = TypeVar("T")


def chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def utcnow() -> datetime:
    return datetime.now(UTC)


def sample(ids: Iterable[str], limit: int = 5) -> str:
    """A short, readable list of ids for an error message."""
    ids = sorted(ids)
    shown = ", ".join(repr(i) for i in ids[:limit])
    return shown + (f" and {len(ids) - limit} more" if len(ids) > limit else "")


def create_batch(conn: Connection, *, batch_id: str, agreement_id: str, agreement_version: str,
                 manifest: dict[str, Any], source_name: str, row_count: int,
                 submitted_by: str) -> None:
    row = {"batch_id": batch_id, "agreement_id": agreement_id,
           "agreement_version": agreement_version, "manifest": manifest,
           "source_name": source_name, "row_count": row_count, "status": "received",
           "submitted_by": submitted_by, "created_at": utcnow()}
    try:
        with conn.begin_nested():
            conn.execute(BATCHES.insert(), row)
    except IntegrityError as exc:
        raise StoreConflict(f"batch {batch_id!r} already exists") from exc


def refresh_statistics(conn: Connection, table: Any, rows: int) -> None:
    if conn.dialect.name == "postgresql" and rows >= ANALYZE_AFTER_ROWS:
        conn.exec_driver_sql(f"ANALYZE {table.name}")


def require_batch(conn: Connection, batch_id: str) -> None:
    found = conn.execute(select(BATCHES.c.batch_id).where(BATCHES.c.batch_id == batch_id))
    if found.first() is None:
        raise StoreNotFound(f"batch {batch_id!r} does not exist")


def existing_ids(conn: Connection, table: Any, batch_id: str, ids: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for part in chunks(ids, CHUNK_KEYS):
        query = select(table.c.request_id).where(table.c.batch_id == batch_id,
                                                 table.c.request_id.in_(part))
        found.update(conn.execute(query).scalars())
    return found


def repeated(ids: Iterable[str]) -> set[str]:
    return {i for i, n in Counter(ids).items() if n > 1}


def add_requests(conn: Connection, *, batch_id: str, rows: list[dict[str, Any]]) -> None:
    require_batch(conn, batch_id)
    ids = [r["request_id"] for r in rows]
    if twice := repeated(ids):
        raise StoreConflict(f"batch {batch_id!r}: request_id repeated in the rows given: "
                            f"{sample(twice)}")
    try:
        with conn.begin_nested():
            insert_rows(conn, REQUESTS, REQUEST_COLUMNS, (
                (batch_id, r["request_id"], r["row_number"], r["payload"], r["dedupe_key"])
                for r in rows))
    except IntegrityError as exc:
        stored = existing_ids(conn, REQUESTS, batch_id, ids)
        raise StoreConflict(f"batch {batch_id!r}: request(s) already stored: "
                            f"{sample(stored)}") from exc
    refresh_statistics(conn, REQUESTS, len(rows))


def set_batch_status(conn: Connection, *, batch_id: str, status: str,
                     master_version: str | None) -> None:
    if status not in BATCH_STATUSES:
        raise ValueError(f"unknown batch status {status!r}; expected one of {BATCH_STATUSES}")
    current = conn.execute(select(BATCHES.c.status).where(BATCHES.c.batch_id == batch_id)
                           ).scalar_one_or_none()
    if current is None:
        raise StoreNotFound(f"batch {batch_id!r} does not exist")
    if status not in TRANSITIONS[current]:
        raise StoreConflict(f"batch {batch_id!r} is {current}; it cannot become {status}")
    values: dict[str, Any] = {"status": status}
    if status in ("done", "failed"):
        values["finished_at"] = utcnow()
    if master_version is not None:
        values["master_version"] = master_version
    conn.execute(update(BATCHES).where(BATCHES.c.batch_id == batch_id).values(**values))


def get_batch(conn: Connection, *, batch_id: str) -> dict[str, Any] | None:
    row = conn.execute(select(BATCHES).where(BATCHES.c.batch_id == batch_id)).mappings().first()
    return dict(row) if row is not None else None


def prior_dedupe_keys(conn: Connection, *, agreement_id: str, keys: Collection[str],
                      exclude_batch: str | None) -> dict[str, tuple[str, str]]:
    """For each key already answered under the agreement, the earliest decided request holding
    it: earliest decision first, then the earlier batch, then the earlier row.

    The keys are looked up one list at a time, unless the agreement has answered fewer requests
    in other batches than there are keys (the first batches, a new agreement): those are then
    read whole. Either way the work follows the smaller of the two (a first batch of 1.28
    million requests spent 30 seconds probing for keys that only it held)."""
    wanted = sorted(set(keys))
    prior = (
        select(REQUESTS.c.dedupe_key, REQUESTS.c.batch_id, REQUESTS.c.request_id)
        .join(BATCHES, BATCHES.c.batch_id == REQUESTS.c.batch_id)
        .join(DECISIONS, (DECISIONS.c.batch_id == REQUESTS.c.batch_id)
              & (DECISIONS.c.request_id == REQUESTS.c.request_id))
        .where(BATCHES.c.agreement_id == agreement_id)
    )
    if exclude_batch is not None:
        prior = prior.where(REQUESTS.c.batch_id != exclude_batch)
    ordered = (REQUESTS.c.dedupe_key, DECISIONS.c.decided_at, BATCHES.c.created_at,
               REQUESTS.c.row_number)
    found: dict[str, tuple[str, str]] = {}
    few = conn.execute(prior.with_only_columns(REQUESTS.c.request_id)
                       .limit(len(wanted) + 1)).fetchall()
    if len(few) <= len(wanted):
        held = set(wanted)
        for key, batch, request in conn.execute(prior.order_by(*ordered)):
            if key in held:
                found.setdefault(key, (batch, request))
        return found
    for part in chunks(wanted, CHUNK_KEYS):
        query = prior.where(REQUESTS.c.dedupe_key.in_(part)).order_by(*ordered)
        for key, batch, request in conn.execute(query):
            found.setdefault(key, (batch, request))
    return found


def requests_for_batch(conn: Connection, *, batch_id: str) -> list[dict[str, Any]]:
    """The batch's requests in row order: request_id, row_number, payload, dedupe_key."""
    query = (select(REQUESTS.c.request_id, REQUESTS.c.row_number, REQUESTS.c.payload,
                    REQUESTS.c.dedupe_key)
             .where(REQUESTS.c.batch_id == batch_id).order_by(REQUESTS.c.row_number))
    return [dict(row) for row in conn.execute(query).mappings()]


def request_payload(conn: Connection, *, batch_id: str, request_id: str
                    ) -> dict[str, Any] | None:
    """One request's submitted fields (by the primary key), None if there is no such request."""
    query = select(REQUESTS.c.payload).where(REQUESTS.c.batch_id == batch_id,
                                             REQUESTS.c.request_id == request_id)
    payload = conn.execute(query).scalar_one_or_none()
    return None if payload is None else dict(payload)
