"""The incident path: a reviewer or auditor flags a disclosure as suspected improper.

`flag_incident` records the incident, marks the disclosure's accounting record with its id (the
only change an accounting record ever takes), logs an `incident.flagged` audit event, and
`write_incident_report` writes the report the custodian must file within 24 hours, as text,
HTML and JSON. The report names the taxpayer by the last four digits of the TIN only.
"""

from __future__ import annotations

import html
import json
import secrets
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from matchgate.accounting.records import ACCOUNTING_COLUMNS
from matchgate.accounting.repo import mark_incident
from matchgate.audit import AuditEvent, AuditLog, EventType
from matchgate.errors import InputError, NotFound
from matchgate.store import Store
from matchgate.store.models import DECISIONS, DISCLOSURE_ACCOUNTING, INCIDENTS

REPORT_WITHIN = timedelta(hours=24)
ROLES = ("reviewer", "auditor")


@dataclass(frozen=True)
class Incident:
    incident_id: str
    batch_id: str
    request_id: str
    accounting_id: int
    reason: str
    flagged_by: str
    role: str
    flagged_at: datetime
    report_due_at: datetime
    disclosure: dict[str, Any]
    decision: dict[str, Any]


def _disclosure(store: Store, request_id: str, batch_id: str | None) -> dict[str, Any]:
    query = select(*(DISCLOSURE_ACCOUNTING.c[c] for c in ACCOUNTING_COLUMNS)).where(
        DISCLOSURE_ACCOUNTING.c.request_id == request_id)
    if batch_id is not None:
        query = query.where(DISCLOSURE_ACCOUNTING.c.batch_id == batch_id)
    with store.reading() as conn:
        rows = [dict(r) for r in conn.execute(query).mappings()]
    if not rows:
        raise NotFound(f"request {request_id!r}{f' in batch {batch_id}' if batch_id else ''} "
                       "made no disclosure: there is no accounting record to flag")
    if len(rows) > 1:
        raise InputError(f"request {request_id!r} is in {len(rows)} batches: name one with "
                         "--batch", problems=[])
    return rows[0]


def _decision(store: Store, batch_id: str, request_id: str) -> dict[str, Any]:
    query = select(DECISIONS.c.code, DECISIONS.c.reason, DECISIONS.c.match_probability,
                   DECISIONS.c.decided_by, DECISIONS.c.decided_at).where(
        DECISIONS.c.batch_id == batch_id, DECISIONS.c.request_id == request_id)
    with store.reading() as conn:
        row = conn.execute(query).mappings().first()
    return dict(row) if row is not None else {}


def flag_incident(store: Store, *, request_id: str, reason: str, flagged_by: str,
                  role: str, batch_id: str | None = None,
                  now: datetime | None = None) -> Incident:
    """Record a suspected improper disclosure and mark its accounting record."""
    if role not in ROLES:
        raise InputError(f"only a reviewer or an auditor flags an incident, not {role!r}")
    if not reason.strip():
        raise InputError("an incident needs a reason (--reason TEXT)")
    record = _disclosure(store, request_id, batch_id)
    if record["incident_id"]:
        raise InputError(f"request {request_id!r} is already flagged as {record['incident_id']}")
    flagged_at = now or datetime.now(UTC)
    incident = Incident(
        incident_id=f"INC-{flagged_at:%Y%m%d}-{secrets.token_hex(4)}",
        batch_id=record["batch_id"], request_id=request_id, accounting_id=int(record["id"]),
        reason=reason.strip(), flagged_by=flagged_by, role=role, flagged_at=flagged_at,
        report_due_at=flagged_at + REPORT_WITHIN, disclosure=record,
        decision=_decision(store, record["batch_id"], request_id))
    with store.writing() as conn:
        conn.execute(INCIDENTS.insert().values(
            incident_id=incident.incident_id, batch_id=incident.batch_id, request_id=request_id,
            accounting_id=incident.accounting_id, reason=incident.reason, flagged_by=flagged_by,
            role=role, flagged_at=flagged_at, report_due_at=incident.report_due_at))
        mark_incident(conn, incident.accounting_id, incident.incident_id)
    log = AuditLog(store)
    log.append([AuditEvent(
        EventType.INCIDENT_FLAGGED, actor=flagged_by, role=role, origin="cli",
        batch_id=incident.batch_id, request_id=request_id,
        agreement_version=record["agreement_version"],
        details={"incident_id": incident.incident_id, "accounting_id": incident.accounting_id,
                 "taxpayer": log.tin_ref(record["taxpayer_tin"]),
                 "report_due_at": incident.report_due_at.isoformat()})])
    return incident


def report_fields(incident: Incident) -> dict[str, Any]:
    """What the incident report says, in order (no full TIN)."""
    d, dec = incident.disclosure, incident.decision
    return {
        "incident": incident.incident_id,
        "report due (UTC)": f"{incident.report_due_at:%Y-%m-%d %H:%M} (24 hours after flagging)",
        "flagged (UTC)": f"{incident.flagged_at:%Y-%m-%d %H:%M}",
        "flagged by": f"{incident.flagged_by} ({incident.role})",
        "reason for suspicion": incident.reason,
        "taxpayer": f"TIN ending {d['taxpayer_tin'][-4:]}",
        "disclosed (UTC)": f"{d['disclosed_at']:%Y-%m-%d %H:%M}",
        "what was disclosed": d["disclosed_fields"],
        "recipient agency": d["recipient_agency"],
        "legal basis": d["legal_basis"],
        "statutory authority stated": d["statutory_authority"] or "(none)",
        "purpose stated": d["purpose"] or "(none)",
        "request / batch": f"{incident.request_id} / {incident.batch_id}",
        "agreement": f"{d['agreement_id']} version {d['agreement_version']}",
        "approved by": d["approved_by"],
        "decision": (f"{dec.get('code')} ({dec.get('reason')}), match probability "
                     f"{dec.get('match_probability')}") if dec else "(not found)",
        "accounting record": f"{incident.accounting_id}, marked {incident.incident_id}",
    }


def _text(fields: dict[str, Any]) -> str:
    width = max(len(k) for k in fields)
    lines = ["SUSPECTED IMPROPER DISCLOSURE: INCIDENT REPORT", ""]
    lines += [f"{k.ljust(width)}  {v}" for k, v in fields.items()]
    lines += ["", "File this report with the custodian's safeguards office before the deadline "
              "above; keep the audit log and the accounting record as they are."]
    return "\n".join(lines) + "\n"


def _html(fields: dict[str, Any]) -> str:
    rows = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>"
                   for k, v in fields.items())
    return ("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>"
            f"{html.escape(fields['incident'])}</title><style>body{{font-family:sans-serif;"
            "margin:2em}th{text-align:left;padding-right:1em;vertical-align:top}"
            ".due{color:#b71c1c;font-weight:bold}</style></head><body>"
            "<h1>Suspected improper disclosure: incident report</h1>"
            f"<p class=\"due\">Due {html.escape(fields['report due (UTC)'])}</p>"
            f"<table>{rows}</table></body></html>\n")


def _iso(value: Any) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)


def write_incident_report(incident: Incident, folder: Path) -> list[Path]:
    """The report as INCIDENT.txt, .html and .json in folder; returns the three paths."""
    fields = report_fields(incident)
    folder.mkdir(parents=True, exist_ok=True)
    base = folder / incident.incident_id
    document = {**asdict(incident), "report": fields}
    document["disclosure"] = {k: v for k, v in incident.disclosure.items()
                              if k != "taxpayer_tin"}
    outputs = {base.with_suffix(".txt"): _text(fields), base.with_suffix(".html"): _html(fields),
               base.with_suffix(".json"): json.dumps(document, indent=1, default=_iso) + "\n"}
    for path, content in outputs.items():
        path.write_text(content, encoding="utf-8")
    return list(outputs)
