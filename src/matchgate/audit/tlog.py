"""The audit log as a transparency log: its events are the leaves of an RFC 6962 Merkle tree, and
signed checkpoints (signed tree heads) commit to the tree at the end of every batch and on demand.

Leaf i (counting from 0) is the event with seq i + 1; its leaf data is the 32 raw bytes of the
event's chain hash (see matchgate.audit.canonical), so the leaf commits to the event's content and
to every event before it. A checkpoint is the C2SP tlog-checkpoint `origin / tree size / root`
with a timestamp, signed with the custodian's Ed25519 key under the origin as key name.

Each stored checkpoint keeps the right edge of its tree (the roots of its perfect subtrees), so
the next checkpoint reads only the events appended since.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select
from sqlalchemy.engine import Connection

from matchgate.audit.chain import lock_head
from matchgate.errors import StoreError
from matchgate.settings import Settings
from matchgate.store import Store
from matchgate.store.bulk import driver_blocks, placeholder
from matchgate.store.models import AUDIT_EVENTS, CHECKPOINTS
from matchgate.transparency import (
    Checkpoint,
    CompactRange,
    generate_key,
    leaf_hash,
    load_private_key,
    public_key_path,
    sign_checkpoint,
)

CHECKPOINT_COLUMNS = ("id", "tree_size", "root", "reason", "created_at", "note")


def event_leaf(chain_hash_hex: str) -> bytes:
    """The leaf hash of an event, from its chain hash in hex."""
    return leaf_hash(bytes.fromhex(chain_hash_hex))


def _stderr(message: str) -> None:
    sys.stderr.write(message + "\n")


@dataclass(frozen=True)
class Signer:
    """The custodian's checkpoint-signing key and the log's name (origin)."""

    origin: str
    private_key: Ed25519PrivateKey

    @classmethod
    def from_settings(cls, settings: Settings,
                      notice: Callable[[str], None] = _stderr) -> Signer:
        """The key at settings.signing_key (MATCHGATE_SIGNING_KEY), made on first use."""
        path = settings.resolved_signing_key()
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            generate_key(path)
            notice(f"matchgate: created the checkpoint-signing key {path} (keep it private) and "
                   f"its public key {public_key_path(path)} (give it to overseers: they verify "
                   "audit exports with it)")
        return cls(settings.log_origin, load_private_key(path))


@dataclass(frozen=True)
class StoredCheckpoint:
    id: int
    tree_size: int
    root: bytes
    note: str
    reason: str
    created_at: datetime


def _latest(conn: Connection) -> Any:
    query = select(CHECKPOINTS).order_by(CHECKPOINTS.c.id.desc()).limit(1)
    return conn.execute(query).mappings().first()


def _resume(row: Any) -> CompactRange:
    if row is None:
        return CompactRange()
    edge = [bytes.fromhex(h) for h in row["right_edge"].split(",") if h]
    return CompactRange.from_state(int(row["tree_size"]), edge)


#: events read per fetch when a checkpoint extends the tree
HASHES_PER_FETCH = 10_000


def _hashes_after(conn: Connection, after: int, upto: int) -> Iterator[list[tuple[int, str]]]:
    """The (seq, hash) of the events after `after` up to `upto`, in seq order, in blocks: read
    with the driver's own cursor (SQLAlchemy's work per row was half of a checkpoint's time
    over a million events), on PostgreSQL a server-side one (the rows are not all held)."""
    mark = placeholder(conn)
    table = conn.dialect.identifier_preparer.format_table(AUDIT_EVENTS)
    sql = f"SELECT seq, hash FROM {table} WHERE seq > {mark} AND seq <= {mark} ORDER BY seq"
    yield from driver_blocks(conn, sql, (after, upto), per_fetch=HASHES_PER_FETCH,
                             name="matchgate_checkpoint_leaves")


def _extend(tree: CompactRange, conn: Connection, upto: int) -> None:
    expected = tree.size + 1

    def leaves() -> Iterator[bytes]:
        nonlocal expected
        for rows in _hashes_after(conn, tree.size, upto):
            # seq is unique and the rows are in its order: a block without a gap starts at
            # the seq expected and ends len(rows) - 1 further
            if rows[0][0] != expected or rows[-1][0] != expected + len(rows) - 1:
                gap = next(expected + i for i, (seq, _) in enumerate(rows)
                           if seq != expected + i)
                raise StoreError(f"audit event {gap} is missing: no checkpoint can be made",
                                 hint="run `matchgate audit verify`")
            expected += len(rows)
            yield from (event_leaf(hash_hex) for _, hash_hex in rows)

    tree.extend(leaves())
    if tree.size != upto:
        raise StoreError(f"the audit log ends at event {tree.size}, its head says {upto}",
                         hint="run `matchgate audit verify`")


class TransparencyLog:
    """Checkpoints over one store's audit log."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def checkpoint(self, signer: Signer, *, reason: str) -> StoredCheckpoint:
        """Sign and store a checkpoint over every event appended so far."""
        with self.store.writing() as conn:
            head = lock_head(conn)
            tree = _resume(_latest(conn))
            if tree.size > head.last_seq:
                raise StoreError(f"the last checkpoint covers {tree.size} events, the audit log "
                                 f"holds {head.last_seq}: the log was truncated")
            _extend(tree, conn, head.last_seq)
            now = datetime.now(UTC)
            root = tree.root()
            note = sign_checkpoint(Checkpoint(signer.origin, tree.size, root, timestamp=now),
                                   signer.private_key)
            result = conn.execute(CHECKPOINTS.insert().values(
                tree_size=tree.size, root=root.hex(), note=note, reason=reason[:256],
                right_edge=",".join(h.hex() for h in tree.hashes), created_at=now))
            new_id = int(result.inserted_primary_key[0])  # type: ignore[index]
        return StoredCheckpoint(new_id, tree.size, root, note, reason, now)

    def checkpoints(self) -> list[dict[str, Any]]:
        """Every stored checkpoint, oldest first."""
        with self.store.reading() as conn:
            return checkpoints_in(conn)


def checkpoints_in(conn: Connection) -> list[dict[str, Any]]:
    query = select(*(CHECKPOINTS.c[c] for c in CHECKPOINT_COLUMNS)).order_by(CHECKPOINTS.c.id)
    return [dict(r) for r in conn.execute(query).mappings()]
