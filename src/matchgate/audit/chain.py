"""The audit log: an append-only table of events, each hashed together with its predecessor.

Appending takes the log's write lock first (BEGIN IMMEDIATE on SQLite; SELECT ... FOR UPDATE of
the one-row audit_head on PostgreSQL), so two writers never fork the chain: the second waits, then
continues from the first one's head. The events and the new head are written in one transaction.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.engine import Connection

from matchgate.audit.canonical import Chainer, details_text
from matchgate.audit.events import AuditEvent
from matchgate.audit.redact import check_details, env_key, tin_ref
from matchgate.audit.verify import ChainReport, Head, check_chain
from matchgate.errors import StoreError
from matchgate.store import Store
from matchgate.store.bulk import insert_rows
from matchgate.store.models import AUDIT_EVENTS, AUDIT_HEAD

STORE_KEY_NAME = "audit_key"
COLUMNS = ("seq", "ts", "actor", "role", "origin", "event_type", "batch_id", "request_id",
           "outcome", "agreement_version", "details", "prev_hash", "hash")


class AuditLog:
    """The hash-chained audit log of one store.

    `key` is the HMAC key of tin_ref; without it, MATCHGATE_AUDIT_KEY is used, and without that a
    random key kept in the store itself (which protects less: whoever copies the store has it).
    """

    def __init__(self, store: Store, *, key: bytes | None = None) -> None:
        self.store = store
        self._key = key

    # -- references to taxpayers ---------------------------------------------------------------

    def key(self) -> bytes:
        if self._key is None:
            self._key = env_key() or bytes.fromhex(self.store.secret(STORE_KEY_NAME))
        return self._key

    def tin_ref(self, tin: str) -> str:
        """A reference to a TIN that is safe to log: keyed hash plus the last four digits."""
        return tin_ref(tin, key=self.key())

    # -- appending -----------------------------------------------------------------------------

    def append(self, events: Sequence[AuditEvent]) -> int:
        """Append the events in one transaction of their own; returns the seq of the last one
        (the new head). An empty sequence writes nothing and returns the current head."""
        for event in events:
            check_details(event.details)
        with self.store.writing() as conn:
            return append_in(conn, events)

    def append_in(self, conn: Connection, events: Sequence[AuditEvent]) -> int:
        """Append the events inside the caller's writing transaction (see append_in)."""
        return append_in(conn, events)

    def _lock_head(self, conn: Connection) -> Head:
        return lock_head(conn)

    # -- reading and verifying -----------------------------------------------------------------

    def head(self) -> Head | None:
        with self.store.reading() as conn:
            row = conn.execute(select(AUDIT_HEAD.c.last_seq, AUDIT_HEAD.c.last_hash)).first()
        return Head(int(row.last_seq), row.last_hash) if row is not None else None

    def read(self, *, after_seq: int = 0, limit: int = 1000) -> list[dict[str, Any]]:
        """Up to `limit` events with seq > after_seq, oldest first, as stored."""
        query = (select(AUDIT_EVENTS).where(AUDIT_EVENTS.c.seq > after_seq)
                 .order_by(AUDIT_EVENTS.c.seq).limit(limit))
        with self.store.reading() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]

    def verify(self) -> ChainReport:
        """Recompute the whole chain from one consistent snapshot of the log and its head."""
        with self.store.reading(snapshot=True) as conn:
            events = conn.execute(select(func.count()).select_from(AUDIT_EVENTS)).scalar_one()
            head_row = conn.execute(
                select(AUDIT_HEAD.c.last_seq, AUDIT_HEAD.c.last_hash)).first()
            head = Head(int(head_row[0]), head_row[1]) if head_row is not None else None
            return check_chain(stream_events(conn), events=events, head=head)


def append_in(conn: Connection, events: Sequence[AuditEvent]) -> int:
    """Append the events in the caller's writing transaction (so that they commit, or vanish,
    with whatever else it writes: a decision, a batch, a review); returns the new head's seq.
    The caller's transaction must be a writing one (Store.writing), which holds the log's lock
    once the head is read here."""
    head = lock_head(conn)
    if not events:
        return head.last_seq
    ts = datetime.now(UTC).isoformat(timespec="microseconds")
    seq = head.last_seq
    chainer = Chainer(head.last_hash)
    rows = []
    for event in events:
        seq += 1
        values = (seq, ts, event.actor, event.role, event.origin, event.event_type,
                  event.batch_id, event.request_id, event.outcome, event.agreement_version,
                  details_text(event.details))
        prev_hash = chainer.prev_hash
        rows.append((*values, prev_hash, chainer.next(*values)))
    last_hash = chainer.prev_hash
    insert_rows(conn, AUDIT_EVENTS, COLUMNS, rows)
    conn.execute(update(AUDIT_HEAD).where(AUDIT_HEAD.c.id == 1)
                 .values(last_seq=seq, last_hash=last_hash))
    return seq


def lock_head(conn: Connection) -> Head:
    """Read the chain head inside a writing transaction, holding the log's write lock (the
    transaction's BEGIN IMMEDIATE on SQLite, SELECT ... FOR UPDATE on PostgreSQL)."""
    query = select(AUDIT_HEAD.c.last_seq, AUDIT_HEAD.c.last_hash).where(AUDIT_HEAD.c.id == 1)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    row = conn.execute(query).first()
    if row is None:
        raise StoreError("the audit log's head row is missing: the store is damaged",
                         hint="run `matchgate audit verify` and restore from a backup")
    return Head(int(row.last_seq), row.last_hash)


def stream_events(conn: Connection) -> Iterator[dict[str, Any]]:
    query = select(*(AUDIT_EVENTS.c[name] for name in COLUMNS)).order_by(AUDIT_EVENTS.c.seq)
    result = conn.execution_options(yield_per=5_000).execute(query)
    for values in result:
        yield dict(zip(COLUMNS, values, strict=True))
