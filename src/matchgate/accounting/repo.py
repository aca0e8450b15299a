"""Reading and writing accounting records (one connection each; Store wraps the writes)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from matchgate.accounting.records import ACCOUNTING_COLUMNS
from matchgate.store.bulk import insert_rows
from matchgate.store.models import DECISIONS, DISCLOSURE_ACCOUNTING


def insert_records(conn: Connection, *, batch_id: str, records: Sequence[dict[str, Any]],
                   disclosed_at: datetime | None = None) -> None:
    """Insert the records in the caller's transaction, dated `disclosed_at` (their decision's
    time; looked up from the first record's decision when not given)."""
    if not records:
        return
    if disclosed_at is None:
        first = records[0]["request_id"]
        disclosed_at = conn.execute(select(DECISIONS.c.decided_at).where(
            DECISIONS.c.batch_id == batch_id, DECISIONS.c.request_id == first)).scalar_one()
    columns = [c for c in records[0] if c not in ("batch_id", "disclosed_at")]
    insert_rows(conn, DISCLOSURE_ACCOUNTING, [*columns, "batch_id", "disclosed_at"],
                ([*(r[c] for c in columns), batch_id, disclosed_at] for r in records))


def _select() -> Any:
    return select(*(DISCLOSURE_ACCOUNTING.c[c] for c in ACCOUNTING_COLUMNS)).order_by(
        DISCLOSURE_ACCOUNTING.c.disclosed_at, DISCLOSURE_ACCOUNTING.c.id)


def accounting_for_taxpayer(conn: Connection, tin: str) -> list[dict[str, Any]]:
    """Every disclosure of the taxpayer's information (TIN as nine digits), oldest first."""
    query = _select().where(DISCLOSURE_ACCOUNTING.c.taxpayer_tin == tin)
    return [dict(r) for r in conn.execute(query).mappings()]


def accounting_for_period(conn: Connection, start: date, end: date) -> list[dict[str, Any]]:
    """Every disclosure made on the days start..end (inclusive, UTC)."""
    lo = datetime.combine(start, time(), tzinfo=UTC)
    hi = datetime.combine(end + timedelta(days=1), time(), tzinfo=UTC)
    query = _select().where(DISCLOSURE_ACCOUNTING.c.disclosed_at >= lo,
                            DISCLOSURE_ACCOUNTING.c.disclosed_at < hi)
    return [dict(r) for r in conn.execute(query).mappings()]


def accounting_for_request(conn: Connection, batch_id: str,
                           request_id: str) -> dict[str, Any] | None:
    query = _select().where(DISCLOSURE_ACCOUNTING.c.batch_id == batch_id,
                            DISCLOSURE_ACCOUNTING.c.request_id == request_id)
    row = conn.execute(query).mappings().first()
    return dict(row) if row is not None else None


def mark_incident(conn: Connection, accounting_id: int, incident_id: str) -> None:
    conn.execute(update(DISCLOSURE_ACCOUNTING).where(DISCLOSURE_ACCOUNTING.c.id == accounting_id)
                 .values(incident_id=incident_id))
