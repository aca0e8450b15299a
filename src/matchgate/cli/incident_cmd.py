"""CLI command: `matchgate incident flag --request ID --reason TEXT`."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Annotated

import typer

from matchgate.incidents import flag_incident, write_incident_report
from matchgate.settings import Settings
from matchgate.store import Store

incident_app = typer.Typer(help="Suspected improper disclosures.", no_args_is_help=True)


@incident_app.command("flag")
def flag(
    request: Annotated[str, typer.Option("--request", help="The request whose disclosure is "
                                                          "suspected improper.")],
    reason: Annotated[str, typer.Option("--reason", help="Why it is suspected.")],
    batch: Annotated[str | None, typer.Option(
        "--batch", help="The batch, if the request id is in more than one.")] = None,
    role: Annotated[str, typer.Option(help="reviewer or auditor.")] = "auditor",
    out: Annotated[Path | None, typer.Option(
        "--out", help="Folder for the incident report (default: MATCHGATE_HOME/incidents).")]
    = None,
    database: Annotated[str | None, typer.Option(
        "--database", help="URL of the operational store (default: MATCHGATE_DATABASE_URL, "
                           "or the SQLite file in MATCHGATE_HOME)")] = None,
) -> None:
    """Flag a disclosure as suspected improper: record it, mark its accounting record, and
    write the incident report the custodian must file within 24 hours."""
    settings = Settings()
    with Store.open(database or settings.resolved_database_url(), create=False) as store:
        incident = flag_incident(store, request_id=request, reason=reason, batch_id=batch,
                                 flagged_by=getpass.getuser(), role=role)
    paths = write_incident_report(incident, out or settings.home / "incidents")
    typer.echo(f"Incident {incident.incident_id} recorded; the accounting record "
               f"{incident.accounting_id} is marked.")
    typer.echo(f"File the report by {incident.report_due_at:%Y-%m-%d %H:%M} UTC: "
               + ", ".join(str(p) for p in paths))


def register(app: typer.Typer) -> None:
    """Add this module's commands to the application."""
    app.add_typer(incident_app, name="incident")
