"""`matchgate agreement check|load`: validate an agreement and put it in force."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from matchgate.agreement import Agreement, load_agreement
from matchgate.service import Services
from matchgate.settings import Settings

console = Console()
agreement_app = typer.Typer(help="Validate agreements and put them in force.",
                            no_args_is_help=True)

FileArg = Annotated[Path, typer.Argument(help="The agreement file (TOML).", show_default=False)]
HomeOpt = Annotated[Path | None, typer.Option(
    "--home", help="matchgate's data folder (default: $MATCHGATE_HOME or ./matchgate-data).")]


def _print(agreement: Agreement) -> None:
    table = Table(title="What the agreement allows", title_justify="left", show_header=False)
    table.add_column("term", style="bold")
    table.add_column("value")
    for term, value in agreement.describe():
        table.add_row(term, value)
    console.print(table)


@agreement_app.command("check")
def check(file: FileArg) -> None:
    """Validate an agreement and print what it allows.

    Every problem is listed at once, each with the field at fault; the exit code is 2 if there is
    any. Nothing is stored.
    """
    agreement = load_agreement(file)
    _print(agreement)
    console.print(f"[green]valid[/]: {file} (version {agreement.version})")


@agreement_app.command("load")
def load(file: FileArg, home: HomeOpt = None) -> None:
    """Validate an agreement and put it in force for the batches that name its id.

    The text is kept whole in the operational store with its version (a content hash), so every
    decision can be traced to the exact terms it was made under.
    """
    services = Services.open(Settings(home=home) if home else Settings())
    agreement = services.load_agreement(file)
    _print(agreement)
    console.print(f"[green]in force[/]: {agreement.agreement_id} version {agreement.version}")


def register(app: typer.Typer) -> None:
    app.add_typer(agreement_app, name="agreement")
