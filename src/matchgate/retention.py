"""Retention: the agreement says how long requests, responses and candidate data are kept.

`run_retention(store, today=...)` purges, per finished batch, under the retention terms of the
agreement version the batch ran under, counted in days from the day the batch was received:
- `requests` (retention.requests_days): the request payloads (names, addresses, case details);
- `responses` (retention.responses_days): what was disclosed and the matched TIN of each decision
  (the code, the reason and the score stay, so oversight statistics remain possible);
- `candidates` (retention.candidates_days): the match evidence of each decision (the best
  candidate's and the list of every candidate considered, with their TINs).
Audit events and the accounting of disclosures are never purged. Each purge is recorded in
retention_purges (so it is done once) and logged as a `retention.purged` audit event.
"""

from __future__ import annotations

import getpass
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from matchgate.agreement import Agreement, Retention
from matchgate.audit import AuditEvent, AuditLog, EventType
from matchgate.store import Store
from matchgate.store.models import BATCHES, DECISIONS, REQUESTS, RETENTION_PURGES

KINDS = ("requests", "responses", "candidates")
FINISHED = ("done", "failed")


@dataclass(frozen=True)
class Purge:
    batch_id: str
    kind: str
    rows: int
    retention_days: int
    received_on: date


def due_kinds(retention: Retention, received_on: date, today: date) -> dict[str, int]:
    """The kinds of data whose time is up on `today`, with their retention in days (pure)."""
    days = {"requests": retention.requests_days, "responses": retention.responses_days,
            "candidates": retention.candidates_days}
    return {kind: n for kind, n in days.items() if received_on + timedelta(days=n) <= today}


def _purge_rows(conn: Connection, batch_id: str, kind: str) -> int:
    if kind == "requests":
        statement = update(REQUESTS).where(REQUESTS.c.batch_id == batch_id).values(payload={})
    elif kind == "responses":
        statement = update(DECISIONS).where(DECISIONS.c.batch_id == batch_id).values(
            disclosed={}, matched_tin=None)
    else:
        statement = update(DECISIONS).where(DECISIONS.c.batch_id == batch_id).values(
            evidence={})
    return int(conn.execute(statement).rowcount)


def _purged(conn: Connection) -> set[tuple[str, str]]:
    query = select(RETENTION_PURGES.c.batch_id, RETENTION_PURGES.c.kind)
    return {(b, k) for b, k in conn.execute(query)}


def _batches(conn: Connection) -> list[dict[str, Any]]:
    query = (select(BATCHES.c.batch_id, BATCHES.c.agreement_id, BATCHES.c.agreement_version,
                    BATCHES.c.created_at)
             .where(BATCHES.c.status.in_(FINISHED)).order_by(BATCHES.c.created_at))
    return [dict(r) for r in conn.execute(query).mappings()]


def _agreement(store: Store, batch: dict[str, Any]) -> Agreement | None:
    text = (store.agreement_text(agreement_id=batch["agreement_id"],
                                 version=batch["agreement_version"])
            or store.agreement_text(agreement_id=batch["agreement_id"]))
    if text is None:
        return None
    return Agreement.from_toml_text(text, source=f"agreement {batch['agreement_id']}")


def _purge_batch(store: Store, batch: dict[str, Any], due: dict[str, int],
                 received_on: date) -> list[Purge]:
    done: list[Purge] = []
    with store.writing() as conn:
        already = _purged(conn)
        for kind, days in due.items():
            if (batch["batch_id"], kind) in already:
                continue
            rows = _purge_rows(conn, batch["batch_id"], kind)
            conn.execute(RETENTION_PURGES.insert().values(
                batch_id=batch["batch_id"], kind=kind, rows=rows, retention_days=days,
                purged_at=datetime.now(UTC)))
            done.append(Purge(batch["batch_id"], kind, rows, days, received_on))
    return done


def run_retention(store: Store, *, today: date, actor: str | None = None) -> list[Purge]:
    """Purge whatever has outlived its retention on `today`; returns what was purged."""
    with store.reading() as conn:
        batches = _batches(conn)
        already = _purged(conn)
    purges: list[Purge] = []
    for batch in batches:
        received_on = batch["created_at"].date()
        agreement = _agreement(store, batch)
        if agreement is None:
            continue
        due = {k: n for k, n in due_kinds(agreement.retention, received_on, today).items()
               if (batch["batch_id"], k) not in already}
        if due:
            purges.extend(_purge_batch(store, batch, due, received_on))
    who = actor or getpass.getuser()
    AuditLog(store).append([AuditEvent(
        EventType.RETENTION_PURGED, actor=who, role="records_officer", origin="cli",
        batch_id=p.batch_id, details={"kind": p.kind, "rows": p.rows,
                                      "retention_days": p.retention_days,
                                      "received_on": p.received_on.isoformat(),
                                      "run_for": today.isoformat()})
        for p in purges])
    return purges
