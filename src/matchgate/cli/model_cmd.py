"""CLI command: `matchgate model train`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from matchgate.match.train import (
    DEFAULT_MODEL_PATH,
    LevelParameters,
    read_requests_file,
    train_model,
)
from matchgate.settings import Settings

model_app = typer.Typer(help="The probabilistic match model.", no_args_is_help=True)


def _levels_table(levels: list[LevelParameters], prior: float) -> Table:
    table = Table(title="Match weights per comparison level", header_style="bold")
    for name, justify in (("comparison", "left"), ("level", "left"), ("m", "right"),
                          ("u", "right"), ("weight", "right")):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for lv in levels:
        weight = "" if lv.weight is None else f"{lv.weight:+.2f}"
        table.add_row(lv.comparison, lv.level, f"{lv.m:.4g}" if lv.m else "",
                      f"{lv.u:.4g}" if lv.u else "", weight)
    table.caption = f"prior probability that two records match: {prior:.3g}"
    return table


@model_app.command("train")
def train_command(
    master: Annotated[Path | None, typer.Option(
        "--master", help="Master store (default: MATCHGATE_HOME/master.duckdb).")] = None,
    requests: Annotated[Path | None, typer.Option(
        "--requests", help="A request file (CSV) to train on; without it the latest filings "
        "are linked to earlier ones.")] = None,
    out: Annotated[Path, typer.Option("--out", help="Where to save the model JSON.")]
    = DEFAULT_MODEL_PATH,
    chart: Annotated[Path | None, typer.Option(
        "--chart", help="Match-weights chart, HTML (default: MATCHGATE_HOME/"
        "match-weights.html).")] = None,
    seed: Annotated[int, typer.Option(help="Seed of the random sampling for u.")] = 2025,
) -> None:
    """Train the model on the master store (and a request file), save it, show its weights."""
    settings = Settings()
    store = master or settings.resolved_match_store()
    chart_path = chart or settings.home / "match-weights.html"
    table = read_requests_file(requests) if requests else None
    report = train_model(store, out, seed=seed, requests=table, chart_path=chart_path)
    console = Console()
    console.print(_levels_table(report.levels, report.prior))
    console.print(f"Trained on {report.pairs_note}.", highlight=False)
    console.print(f"Model saved to {report.model_path}", highlight=False)
    console.print(f"Match-weights chart saved to {report.chart_path}", highlight=False)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the application."""
    app.add_typer(model_app, name="model")
