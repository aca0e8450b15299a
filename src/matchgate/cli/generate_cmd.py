"""CLI command: `matchgate generate`, a synthetic master file and request batch to try matchgate
on (all people are invented)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from matchgate.master.generate import GenerateReport, generate, validate_arguments

STAGES = {"taxpayers": "Taxpayers and master file", "requests": "Request batch and truth"}

HELP = "\n\n".join((
    "Create a synthetic taxpayer population and a request batch to verify against it.",
    "Writes four files into OUT: master.parquet (or master.csv), the custodian's master file "
    "with one row per taxpayer per tax year filed; requests.csv, a batch as a requesting agency "
    "would submit it (about 70% people in the master file, written with realistic differences, "
    "the rest people who are not in it, and about 8% requests that must be rejected); "
    "manifest.toml, the batch manifest; and truth.csv, the right answer for every request, for "
    "measuring matchgate. Everyone is invented. The same --seed always gives the same files.",
    "Example: matchgate generate --out demo-data --taxpayers 100000 --requests 5000",
))


def _summary(report: GenerateReport) -> Table:
    table = Table(title="Generated", show_header=True, header_style="bold")
    table.add_column("file")
    table.add_column("what", overflow="fold")
    table.add_column("rows", justify="right")
    table.add_row(str(report.master_path),
                  f"{report.taxpayers:,} taxpayers ({report.itin_taxpayers:,} ITIN) in "
                  f"{report.households:,} households", f"{report.master_rows:,}")
    table.add_row(str(report.requests_path),
                  f"{report.in_master:,} in master, {report.not_in_master:,} not in master, "
                  f"{report.invalid:,} invalid", f"{report.requests:,}")
    table.add_row(str(report.manifest_path), "batch manifest (agreement, legal basis)", "")
    table.add_row(str(report.truth_path), "ground truth for evaluation only",
                  f"{report.requests:,}")
    return table


def generate_command(
    out: Annotated[Path, typer.Option("--out", help="Folder to write the files into "
                                      "(created if missing).")],
    taxpayers: Annotated[int, typer.Option(help="Number of taxpayers in the master file.")]
    = 20_000,
    requests: Annotated[int, typer.Option(help="Number of requests in the batch.")] = 2_000,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same files.")]
    = 2025,
    master_format: Annotated[str, typer.Option(
        "--master-format", help="Format of the master file: parquet or csv.")] = "parquet",
) -> None:
    validate_arguments(taxpayers=taxpayers, requests=requests, master_format=master_format)
    console = Console()
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn(
            "{task.percentage:>3.0f}%"), TimeElapsedColumn(), console=console,
            transient=False) as bar:
        tasks: dict[str, TaskID] = {k: bar.add_task(v, total=1.0) for k, v in STAGES.items()}

        def progress(stage: str, fraction: float) -> None:
            if stage in tasks:
                bar.update(tasks[stage], completed=fraction)

        report = generate(out, taxpayers=taxpayers, requests=requests, seed=seed,
                          master_format=master_format, progress=progress)
    console.print(_summary(report))


def register(app: typer.Typer) -> None:
    """Add this module's commands to the application."""
    app.command("generate", help=HELP, no_args_is_help=True)(generate_command)
