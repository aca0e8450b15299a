"""Answering the taxpayer and writing the agency's accounting report; every read is audited."""

from __future__ import annotations

import getpass
import json
from datetime import date
from pathlib import Path
from typing import Any

from matchgate.accounting.records import ACCOUNTING_COLUMNS
from matchgate.accounting.repo import accounting_for_period, accounting_for_taxpayer
from matchgate.audit import AuditEvent, AuditLog, EventType
from matchgate.audit.redact import normalize_tin
from matchgate.csvsafe import write_csv
from matchgate.errors import InputError
from matchgate.store import Store

FORMATS = ("csv", "json")


def _event(event_type: str, details: dict[str, Any]) -> AuditEvent:
    return AuditEvent(event_type, actor=getpass.getuser(), role="disclosure_officer",
                      origin="cli", details=details)


def taxpayer_disclosures(store: Store, tin: str) -> list[dict[str, Any]]:
    """The taxpayer's disclosures (TIN with or without dashes); the look-up is audited."""
    digits = normalize_tin(tin)
    with store.reading() as conn:
        rows = accounting_for_taxpayer(conn, digits)
    log = AuditLog(store)
    log.append([_event(EventType.ACCOUNTING_TAXPAYER_QUERY, {"taxpayer": log.tin_ref(digits),
                                                             "records": len(rows)})])
    return rows


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    return {c: (row[c].isoformat() if hasattr(row[c], "isoformat") else row[c])
            for c in ACCOUNTING_COLUMNS}


def export_accounting(store: Store, *, start: date, end: date, out: Path,
                      fmt: str = "csv") -> int:
    """Write the accounting of disclosures made start..end (inclusive) to out; returns rows."""
    if fmt not in FORMATS:
        raise InputError(f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    if end < start:
        raise InputError(f"--to {end} is before --from {start}")
    with store.reading() as conn:
        rows = [_plain(r) for r in accounting_for_period(conn, start, end)]
    if fmt == "csv":
        write_csv(out, ACCOUNTING_COLUMNS, rows)
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        document = {"from": start.isoformat(), "to": end.isoformat(), "disclosures": rows}
        out.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n",
                       encoding="utf-8")
    AuditLog(store).append([_event(EventType.ACCOUNTING_EXPORTED, {
        "from": start.isoformat(), "to": end.isoformat(), "records": len(rows),
        "format": fmt, "file": out.name})])
    return len(rows)
