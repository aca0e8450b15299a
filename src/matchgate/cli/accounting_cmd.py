"""CLI commands: `matchgate accounting taxpayer TIN` and `matchgate accounting export`."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from matchgate.accounting.service import export_accounting, taxpayer_disclosures
from matchgate.audit.redact import normalize_tin
from matchgate.cli.options import DatabaseOption, database_url
from matchgate.store import Store

accounting_app = typer.Typer(help="The accounting of disclosures (26 U.S.C. 6103(p)(3)).",
                             no_args_is_help=True)


def _day(value: datetime) -> date:
    return value.date()


@accounting_app.command("taxpayer")
def taxpayer(
    tin: Annotated[str, typer.Argument(help="The taxpayer's TIN (dashes allowed).")],
    database: DatabaseOption = None,
) -> None:
    """Whether, when, to whom and why the taxpayer's information was disclosed."""
    digits = normalize_tin(tin)
    with Store.open(database_url(database), create=False) as store:
        rows = taxpayer_disclosures(store, digits)
    console = Console()
    masked = f"***-**-{digits[-4:]}"
    if not rows:
        console.print(f"No disclosure of information about taxpayer {masked} is recorded.")
        return
    table = Table(title=f"Disclosures about taxpayer {masked}", title_justify="left")
    for name in ("date (UTC)", "recipient agency", "legal basis", "statutory authority",
                 "purpose", "what", "request", "batch", "approved by", "incident"):
        table.add_column(name)
    for r in rows:
        table.add_row(r["disclosed_at"].strftime("%Y-%m-%d %H:%M"), r["recipient_agency"],
                      r["legal_basis"], r["statutory_authority"] or "", r["purpose"] or "",
                      r["disclosed_fields"], r["request_id"], r["batch_id"], r["approved_by"],
                      r["incident_id"] or "")
    console.print(table)


@accounting_app.command("export")
def export(
    start: Annotated[datetime, typer.Option("--from", formats=["%Y-%m-%d"],
                                            help="First day (UTC), YYYY-MM-DD.")],
    end: Annotated[datetime, typer.Option("--to", formats=["%Y-%m-%d"],
                                          help="Last day (UTC), inclusive.")],
    out: Annotated[Path, typer.Option("--out", help="The report file.")],
    fmt: Annotated[str, typer.Option("--format", help="csv or json.")] = "csv",
    database: DatabaseOption = None,
) -> None:
    """Write the accounting of the disclosures made in a period (the agency's report)."""
    with Store.open(database_url(database), create=False) as store:
        n = export_accounting(store, start=_day(start), end=_day(end), out=out, fmt=fmt)
    typer.echo(f"{n} disclosure(s) from {_day(start)} to {_day(end)} written to {out}")


def register(app: typer.Typer) -> None:
    """Add this module's commands to the application."""
    app.add_typer(accounting_app, name="accounting")
