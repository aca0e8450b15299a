"""CLI commands: audit (`matchgate audit verify`)."""

from __future__ import annotations

from typing import Annotated

import typer

from matchgate.audit import AuditLog
from matchgate.settings import Settings
from matchgate.store import Store

audit_app = typer.Typer(help="The audit log: check that no event was changed, removed or moved.",
                        no_args_is_help=True)


@audit_app.command("verify")
def verify(
    database: Annotated[str | None, typer.Option(
        "--database", help="URL of the operational store (default: MATCHGATE_DATABASE_URL, "
                           "or the SQLite file in MATCHGATE_HOME)")] = None,
) -> None:
    """Recompute the audit log's hash chain; exit 0 if intact, 4 where it breaks."""
    url = database or Settings().resolved_database_url()
    with Store.open(url, create=False) as store:
        report = AuditLog(store).verify()
    typer.echo(report.summary())
    report.raise_if_broken()


def register(app: typer.Typer) -> None:
    """Add this module's commands to the application."""
    app.add_typer(audit_app, name="audit")
