"""What every hostile case must leave behind: a store that is consistent, an audit chain that
verifies, and CSV files in which no cell is live."""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Any

from sqlalchemy import text

from matchgate.audit import AuditLog
from matchgate.store import Store

# Independent of csvsafe on purpose: what a spreadsheet would evaluate.
_LIVE = re.compile(r"^(?:[\t\r\n]| *[=+\-@\uff1d\uff0b\uff0d\uff20])")
_NUMBER = re.compile(r"^-?\d+(?:\.\d+)?(?:e-?\d+)?$")


def live_cells(path: Path) -> list[str]:
    """Cells of a CSV file that a spreadsheet would read as a formula (numbers aside)."""
    with path.open(newline="", encoding="utf-8") as fh:
        return [cell for row in csv.reader(fh) for cell in row
                if _LIVE.match(cell) and not _NUMBER.match(cell)]


def live_cells_in_text(body: str) -> list[str]:
    return [cell for row in csv.reader(body.splitlines()) for cell in row
            if _LIVE.match(cell) and not _NUMBER.match(cell)]


def counts(store: Store) -> dict[str, int]:
    with store.reading() as conn:
        return {t: int(conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one())
                for t in ("batches", "requests", "decisions", "batch_jobs")
                if t in store.table_names()}


def assert_consistent(store: Store) -> None:
    """Every stored batch is whole (its rows all stored, each request answered once) and the
    audit chain verifies."""
    with store.reading() as conn:
        for batch_id, rows, status in conn.execute(text(
                "SELECT batch_id, row_count, status FROM batches")).all():
            stored = conn.execute(text("SELECT count(*) FROM requests WHERE batch_id = :b"),
                                  {"b": batch_id}).scalar_one()
            assert stored == rows, (batch_id, stored, rows)
            if status == "done":
                decided = conn.execute(text(
                    "SELECT count(*), count(DISTINCT request_id) FROM decisions "
                    "WHERE batch_id = :b"), {"b": batch_id}).one()
                assert tuple(decided) == (rows, rows), (batch_id, decided, rows)
    report = AuditLog(store).verify()
    assert report.ok, report.summary()


def reasons_of(store: Store, batch_id: str) -> dict[str, Any]:
    return {d["request_id"]: d for d in store.decisions_for_batch(batch_id=batch_id)}


def latest_batch(store: Store, source_name: str) -> str:
    with store.reading() as conn:
        return str(conn.execute(text(
            "SELECT batch_id FROM batches WHERE source_name = :s ORDER BY created_at DESC"),
            {"s": source_name}).scalars().first())
