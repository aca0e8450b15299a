"""Entry point: `matchgate COMMAND`. Each command group lives in its own module."""

from __future__ import annotations

import sys
import traceback
from datetime import UTC, datetime
from pathlib import Path

import typer
from rich.console import Console

from matchgate.errors import MatchgateError

app = typer.Typer(
    name="matchgate",
    help=(
        "Verify identities submitted by a requesting agency against the custodian's taxpayer "
        "master file, disclosing only what the agreement and 26 U.S.C. 6103 allow, with every "
        "step recorded in a verifiable audit log."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

err_console = Console(stderr=True)


def _register() -> None:
    from matchgate.cli import commands

    commands.register(app)


def run() -> None:
    """Run the CLI; errors become one clear message and an exit code, never a traceback."""
    try:
        _register()
        app()
    except MatchgateError as exc:
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        err_console.print("[yellow]interrupted[/]")
        sys.exit(130)
    except Exception as exc:  # an unexpected failure: say where the details went
        log = Path("matchgate-crash.log").resolve()
        with log.open("a", encoding="utf-8") as fh:
            fh.write(f"--- {datetime.now(UTC).isoformat()}\n{traceback.format_exc()}\n")
        err_console.print(
            f"[bold red]internal error:[/] {type(exc).__name__}: {exc}\n"
            f"The details were written to {log}; please attach that file to a bug report.",
            highlight=False,
        )
        sys.exit(70)
