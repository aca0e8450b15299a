"""CLI commands: `matchgate master load` and `matchgate master info`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from matchgate.master.load import LOAD_STAGES, REJECT_REASONS, MasterLoadReport, load_master
from matchgate.master.store import open_master
from matchgate.settings import Settings

master_app = typer.Typer(help="The custodian's master file and the master store.",
                         no_args_is_help=True)

StoreOption = Annotated[Path | None, typer.Option(
    "--store", help="DuckDB file of the master store (default: MATCHGATE_HOME/master.duckdb).")]


def _store_path(store: Path | None) -> Path:
    return store or Settings().resolved_match_store()


def _summary(report: MasterLoadReport) -> Table:
    table = Table(title=f"Master store {report.store_path}", show_header=True,
                  header_style="bold")
    table.add_column("what")
    table.add_column("rows", justify="right")
    table.add_row(f"read from {report.source}", f"{report.rows_read:,}")
    table.add_row("master history (taxpayer x tax year)", f"{report.history_rows:,}")
    table.add_row("taxpayers", f"{report.taxpayers:,}")
    table.add_row("set aside (table master_rejects)", f"{report.rejected_rows:,}")
    for reason, count in report.rejects_by_reason.items():
        table.add_row(f"  {reason}: {REJECT_REASONS.get(reason, reason)}", f"{count:,}")
    if report.rejects_path is not None and report.rejected_rows:
        table.add_row(f"  the rows set aside: {report.rejects_path}", "")
    stages = ", ".join(f"{name} {seconds:.1f}" for name, seconds in report.stage_seconds.items())
    table.caption = (f"master_version {report.master_version}, {report.seconds:.1f} s"
                     + (f" ({stages})" if stages else ""))
    return table


@master_app.command("load")
def load_command(
    master_file: Annotated[Path, typer.Argument(help="Master file, CSV or Parquet, one row "
                                                "per taxpayer per tax year.")],
    store: StoreOption = None,
    report_json: Annotated[Path | None, typer.Option(
        "--report-json", help="Also write the load's report (counts, set-aside rows by reason, "
        "seconds per stage) to this JSON file, for monitoring.")] = None,
) -> None:
    """Load the master file into the master store, replacing the old store only on success."""
    console = Console()
    target = _store_path(store)
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn(
            "{task.percentage:>3.0f}%"), TimeElapsedColumn(), console=console) as bar:
        tasks: dict[str, TaskID] = {k: bar.add_task(v[0].upper() + v[1:], total=1.0)
                                    for k, v in LOAD_STAGES.items()}

        def progress(stage: str, fraction: float) -> None:
            if stage in tasks:
                bar.update(tasks[stage], completed=fraction)

        report = load_master(master_file, target, progress=progress)
    console.print(_summary(report))
    if report_json is not None:
        report_json.write_text(json.dumps(report.as_json(), indent=2) + "\n")


@master_app.command("info")
def info_command(store: StoreOption = None) -> None:
    """Show the master store's version and counts."""
    with open_master(_store_path(store)) as handle:
        meta = handle.meta()
    console = Console()
    for name, value in vars(meta).items():
        console.print(f"{name}: {value}", highlight=False)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the application."""
    app.add_typer(master_app, name="master")
