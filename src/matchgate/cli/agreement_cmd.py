"""CLI commands: `matchgate agreement check FILE` validates an agreement and prints what it
allows. A malformed agreement raises AgreementError, which the entry point prints with every
problem and turns into a non-zero exit code."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from matchgate.agreement import load_agreement

agreement_app = typer.Typer(help="Check disclosure agreements.", no_args_is_help=True)


@agreement_app.command("check")
def check(file: Annotated[Path, typer.Argument(help="agreement file (TOML)")]) -> None:
    """Validate an agreement and print what it allows: legal bases, required elements,
    disclosable fields, thresholds, limits, safeguards and its version."""
    agreement = load_agreement(file)
    table = Table(title=f"Agreement {agreement.agreement_id} (version {agreement.version})",
                  show_header=False, title_justify="left")
    table.add_column("what", style="bold")
    table.add_column("allows")
    for label, value in agreement.describe():
        table.add_row(label, value)
    console = Console()
    console.print(table)
    console.print(f"[green]valid[/]: {file}", highlight=False)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the application."""
    app.add_typer(agreement_app, name="agreement")
