"""CLI command: `matchgate retention run`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from matchgate.retention import run_retention
from matchgate.settings import Settings
from matchgate.store import Store

retention_app = typer.Typer(help="Retention: purge what the agreement no longer lets us keep.",
                            no_args_is_help=True)


@retention_app.command("run")
def run_command(
    today: Annotated[datetime | None, typer.Option(
        "--today", formats=["%Y-%m-%d"], help="Run as of this day (default: today, UTC).")]
    = None,
    database: Annotated[str | None, typer.Option(
        "--database", help="URL of the operational store (default: MATCHGATE_DATABASE_URL, "
                           "or the SQLite file in MATCHGATE_HOME)")] = None,
) -> None:
    """Purge request payloads, response details and candidate evidence past their retention.

    Audit events and the accounting of disclosures are kept; every purge is logged as an audit
    event.
    """
    day = today.date() if today else datetime.now(UTC).date()
    with Store.open(database or Settings().resolved_database_url()) as store:
        purges = run_retention(store, today=day)
    console = Console()
    if not purges:
        console.print(f"Nothing to purge as of {day}.")
        return
    table = Table(title=f"Purged as of {day}", title_justify="left")
    for name, justify in (("batch", "left"), ("data", "left"), ("rows", "right"),
                          ("kept for (days)", "right"), ("received", "left")):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for p in purges:
        table.add_row(p.batch_id, p.kind, f"{p.rows:,}", str(p.retention_days),
                      p.received_on.isoformat())
    console.print(table)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the application."""
    app.add_typer(retention_app, name="retention")
