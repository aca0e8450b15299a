"""`matchgate explain`: why one request was answered as it was, as text and as an HTML page."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from sqlalchemy import select

from matchgate.audit import AuditEvent, AuditLog, EventType
from matchgate.errors import InputError, NotFound
from matchgate.explain import account_lines, explain_decision, html_page, load_model
from matchgate.service import Services
from matchgate.settings import Settings
from matchgate.store import Store
from matchgate.store.models import BATCHES, DECISIONS

console = Console()


def find_decision(store: Store, request_id: str, batch_id: str | None = None
                  ) -> dict[str, Any]:
    """The stored decision for the request; with no batch given, the request must be in one."""
    query = select(DECISIONS).where(DECISIONS.c.request_id == request_id)
    if batch_id is not None:
        query = query.where(DECISIONS.c.batch_id == batch_id)
    with store.reading() as conn:
        rows = [dict(r) for r in conn.execute(query.order_by(DECISIONS.c.batch_id)).mappings()]
        batch_known = batch_id is None or conn.execute(
            select(BATCHES.c.batch_id).where(BATCHES.c.batch_id == batch_id)).first()
    if not batch_known:
        raise NotFound(f"batch {batch_id!r} not found",
                       hint="Give the batch id a verify run printed, or leave out --batch.")
    if not rows:
        where = f" in batch {batch_id!r}" if batch_id else ""
        raise NotFound(f"request {request_id!r} has no decision{where}",
                       hint="Check the request id against the batch's requests file; a batch "
                       "still running has not decided every request yet.")
    if len(rows) > 1:
        batches = ", ".join(r["batch_id"] for r in rows[:10])
        raise InputError(f"request {request_id!r} was decided in {len(rows)} batches "
                         f"({batches})", hint="Say which with --batch BATCH_ID.")
    return rows[0]


def explain(
    request_id: Annotated[str, typer.Argument(help="The request id, as in the requests file.",
                                              show_default=False)],
    out: Annotated[Path, typer.Option("--out", "-o", help="The HTML page to write.",
                                      show_default=False)],
    batch: Annotated[str | None, typer.Option(
        "--batch", help="The batch, when the request id is in more than one.")] = None,
    home: Annotated[Path | None, typer.Option(
        "--home", help="matchgate's data folder (default: $MATCHGATE_HOME or ./matchgate-data).")
    ] = None,
) -> None:
    """Explain one decision: each field's match weight from the prior to the total.

    Prints the account and writes a self-contained HTML page (a waterfall chart as inline SVG,
    the account and the decision; no script, nothing loaded from the network). The explain is
    recorded in the audit log.
    """
    settings = Settings(home=home) if home else Settings()
    services = Services.open(settings)
    decision = find_decision(services.store, request_id, batch)
    explanation = explain_decision(decision, load_model())
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(html_page(explanation), encoding="utf-8")
    AuditLog(services.store).append([AuditEvent(
        event_type=EventType.DECISION_EXPLAINED, actor=services.actor.name,
        role=services.actor.role, origin="cli", batch_id=explanation.batch_id,
        request_id=explanation.request_id,
        agreement_version=decision.get("agreement_version"),
        details={"code": explanation.code, "reason": explanation.reason})])
    for line in account_lines(explanation):
        console.print(escape(line), highlight=False)
    console.print(f"HTML: {escape(str(out))}", highlight=False)


def register(app: typer.Typer) -> None:
    app.command("explain")(explain)
