"""Exporting the audit log and its checkpoints to one JSON Lines file an overseer can verify alone.

    {"type": "header", "format": "matchgate-audit-export/1", "origin": ..., "events": N,
     "checkpoints": M, "head": {"last_seq": ..., "last_hash": ...}, "exported_at": ...}
    {"type": "event", "seq": 1, "ts": ..., ..., "details": "<text as stored>", "prev_hash": ...,
     "hash": ...}                                   (N lines, in seq order)
    {"type": "checkpoint", "id": 1, "tree_size": ..., "root": "<hex>", "reason": ...,
     "created_at": ..., "note": "<signed note>"}    (M lines, oldest first)

Events are written exactly as stored, with their hashes; the header is informative only (it is
not signed): what an overseer trusts is the recomputed chain and the signed checkpoints.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import func, select

from matchgate.audit.chain import COLUMNS, stream_events
from matchgate.audit.offline import Export, ExportReport, verify_records
from matchgate.audit.tlog import checkpoints_in
from matchgate.errors import InputError
from matchgate.store import Store
from matchgate.store.models import AUDIT_EVENTS, AUDIT_HEAD

FORMAT = "matchgate-audit-export/1"


@dataclass(frozen=True)
class ExportSummary:
    path: Path
    events: int
    checkpoints: int


def _line(record: dict[str, Any]) -> str:
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"), default=str) + "\n"


def export_log(store: Store, out: Path, *, origin: str) -> ExportSummary:
    """Write every event and every checkpoint of the store to `out` (JSON Lines)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".partial")
    try:
        with store.reading(snapshot=True) as conn, tmp.open("w", encoding="utf-8") as fh:
            events = conn.execute(select(func.count()).select_from(AUDIT_EVENTS)).scalar_one()
            checkpoints = checkpoints_in(conn)
            head = conn.execute(select(AUDIT_HEAD.c.last_seq, AUDIT_HEAD.c.last_hash)).first()
            fh.write(_line({
                "type": "header", "format": FORMAT, "origin": origin, "events": events,
                "checkpoints": len(checkpoints),
                "head": {"last_seq": head[0], "last_hash": head[1]} if head else None,
                "exported_at": datetime.now(UTC).isoformat(timespec="seconds")}))
            for row in stream_events(conn):
                fh.write(_line({"type": "event", **{c: row[c] for c in COLUMNS}}))
            for cp in checkpoints:
                fh.write(_line({"type": "checkpoint", **cp}))
        tmp.replace(out)
    except OSError as exc:
        raise InputError(f"{out}: cannot write the export: {exc.strerror}") from None
    return ExportSummary(out, int(events), len(checkpoints))


def verify_store_log(store: Store, public_key: Ed25519PublicKey, *,
                     origin: str) -> ExportReport:
    """The checks of an export's verification, run on the store's own events and checkpoints."""
    with store.reading(snapshot=True) as conn:
        head = conn.execute(select(AUDIT_HEAD.c.last_seq, AUDIT_HEAD.c.last_hash)).first()
        records = Export(
            header={"origin": origin,
                    "head": {"last_seq": head[0], "last_hash": head[1]} if head else None},
            events=list(stream_events(conn)), checkpoints=checkpoints_in(conn))
    return verify_records(records, public_key)

