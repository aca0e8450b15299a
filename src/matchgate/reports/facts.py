"""Gathering what an oversight report needs from the store (the only I/O of the report)."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from matchgate.agreement import Agreement
from matchgate.audit import AuditLog, ChainReport, EventType
from matchgate.audit.export import verify_store_log
from matchgate.audit.offline import ExportReport
from matchgate.errors import NotFound
from matchgate.store import Store
from matchgate.store.models import (
    AUDIT_EVENTS,
    BATCHES,
    DECISIONS,
    DISCLOSURE_ACCOUNTING,
    INCIDENTS,
    REQUESTS,
    REVIEWS,
)

Key = tuple[str, str]
CHUNK = 500
# A request's gate record: `request.gated` (a rejection, or, in batches recorded before
# session 12, a pass too) or `request.decided`, which is written only for a request that passed
# the gate and says so ("gate": "passed").
GATE_EVENTS = (EventType.REQUEST_GATED, EventType.REQUEST_DECIDED)


@dataclass
class ReportData:
    scope: str
    batches: list[dict[str, Any]]
    decisions: list[dict[str, Any]]
    dedupe_keys: dict[Key, str | None]
    gated: set[Key]
    disclosure_events: set[Key]
    accounted: dict[Key, dict[str, Any]]
    agreements: dict[tuple[str, str], Agreement]
    chain: ChainReport
    log: ExportReport | None
    history: dict[str, Counter[str]] = field(default_factory=dict)
    incidents: list[dict[str, Any]] = field(default_factory=list)
    reviews: dict[Key, dict[str, Any]] = field(default_factory=dict)
    generated_at: datetime = field(default_factory=lambda: datetime.now(UTC))


def _scoped_batches(conn: Connection, batch_id: str | None, start: date | None,
                    end: date | None) -> list[dict[str, Any]]:
    query = select(BATCHES).order_by(BATCHES.c.created_at)
    if batch_id is not None:
        query = query.where(BATCHES.c.batch_id == batch_id)
    if start is not None:
        query = query.where(BATCHES.c.created_at >= datetime.combine(start, time(), tzinfo=UTC))
    if end is not None:
        query = query.where(BATCHES.c.created_at < datetime.combine(
            end + timedelta(days=1), time(), tzinfo=UTC))
    return [dict(r) for r in conn.execute(query).mappings()]


def _by_batches(conn: Connection, table: Any, columns: list[Any], ids: list[str],
                *where: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for start in range(0, len(ids), CHUNK):
        query = select(*columns).where(table.c.batch_id.in_(ids[start:start + CHUNK]), *where)
        rows.extend(dict(r) for r in conn.execute(query).mappings())
    return rows


def _history(conn: Connection) -> dict[str, Counter[str]]:
    """Codes per batch over every batch in the store (the baseline for anomalies)."""
    query = select(DECISIONS.c.batch_id, DECISIONS.c.code, func.count()).group_by(
        DECISIONS.c.batch_id, DECISIONS.c.code)
    out: dict[str, Counter[str]] = defaultdict(Counter)
    for batch_id, code, n in conn.execute(query):
        out[batch_id][code] = int(n)
    return dict(out)


def _agreements(store: Store, batches: list[dict[str, Any]]) -> dict[tuple[str, str], Agreement]:
    found: dict[tuple[str, str], Agreement] = {}
    for b in batches:
        key = (b["agreement_id"], b["agreement_version"])
        if key in found:
            continue
        text = store.agreement_text(agreement_id=key[0], version=key[1])
        if text is not None:
            found[key] = Agreement.from_toml_text(text, source=f"agreement {key[0]}")
    return found


def gather(store: Store, *, batch_id: str | None = None, start: date | None = None,
           end: date | None = None, public_key: Ed25519PublicKey | None = None,
           origin: str = "") -> ReportData:
    """Everything the report shows, for one batch or the batches received start..end."""
    with store.reading(snapshot=True) as conn:
        batches = _scoped_batches(conn, batch_id, start, end)
        if not batches:
            what = f"batch {batch_id!r}" if batch_id else f"batches received {start} to {end}"
            raise NotFound(f"no {what} in the store")
        ids = [b["batch_id"] for b in batches]
        decisions = _by_batches(conn, DECISIONS, [
            DECISIONS.c.batch_id, DECISIONS.c.request_id, DECISIONS.c.code, DECISIONS.c.reason,
            DECISIONS.c.match_probability, DECISIONS.c.matched_tin, DECISIONS.c.decided_by,
            DECISIONS.c.decided_at], ids)
        requests = _by_batches(conn, REQUESTS, [REQUESTS.c.batch_id, REQUESTS.c.request_id,
                                                REQUESTS.c.dedupe_key], ids)
        events = _by_batches(conn, AUDIT_EVENTS, [
            AUDIT_EVENTS.c.batch_id, AUDIT_EVENTS.c.request_id, AUDIT_EVENTS.c.event_type],
            ids, AUDIT_EVENTS.c.event_type.in_((*GATE_EVENTS, EventType.DISCLOSURE)))
        accounted = _by_batches(conn, DISCLOSURE_ACCOUNTING, [
            DISCLOSURE_ACCOUNTING.c.batch_id, DISCLOSURE_ACCOUNTING.c.request_id,
            DISCLOSURE_ACCOUNTING.c.taxpayer_tin, DISCLOSURE_ACCOUNTING.c.incident_id], ids)
        incidents = _by_batches(conn, INCIDENTS, [INCIDENTS], ids)
        reviews = _by_batches(conn, REVIEWS, [REVIEWS], ids)
        history = _history(conn)
    return ReportData(
        scope=f"batch {batch_id}" if batch_id else f"batches received {start} to {end}",
        batches=batches, decisions=decisions,
        dedupe_keys={(r["batch_id"], r["request_id"]): r["dedupe_key"] for r in requests},
        gated={(e["batch_id"], e["request_id"]) for e in events
               if e["event_type"] in GATE_EVENTS},
        disclosure_events={(e["batch_id"], e["request_id"]) for e in events
                           if e["event_type"] == EventType.DISCLOSURE},
        accounted={(a["batch_id"], a["request_id"]): a for a in accounted},
        agreements=_agreements(store, batches), chain=AuditLog(store).verify(),
        log=verify_store_log(store, public_key, origin=origin) if public_key else None,
        history=history, incidents=incidents,
        reviews={(r["batch_id"], r["request_id"]): r for r in reviews})
