"""`matchgate demo`: the whole pipeline on a synthetic population, start to finish."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.panel import Panel

from matchgate.cli.output import accuracy_table, print_batch_summary
from matchgate.evaluate import evaluate
from matchgate.examples import example_path
from matchgate.master.generate import generate
from matchgate.master.load import load_master
from matchgate.progress import RichReporter
from matchgate.service import Services
from matchgate.settings import Settings

console = Console()


def demo(
    taxpayers: Annotated[int, typer.Option(help="Taxpayers in the synthetic master file.")]
    = 20_000,
    requests: Annotated[int, typer.Option(help="Requests in the synthetic batch.")] = 2_000,
    seed: Annotated[int, typer.Option(help="Seed of the synthetic data (same seed, same data).")]
    = 2025,
    out: Annotated[Path, typer.Option(help="Folder for everything the demo writes; it is "
                                           "emptied first.")] = Path("matchgate-data/demo"),
) -> None:
    """Generate a synthetic master file and batch, then verify it end to end.

    Loads the example agreement (modelled on the 2025 agreement under 26 U.S.C. 6103(i)(2)),
    verifies the batch on the embedded defaults (DuckDB for matching, SQLite for the operational
    store), and prints the response codes, the rejection reasons, precision and recall against the
    generator's ground truth, where the files are, and whether the audit chain verifies.
    """
    if out.exists():
        shutil.rmtree(out)
    data = out / "input"
    settings = Settings(home=out / "store")
    settings.ensure_home()
    console.print(Panel.fit(
        f"matchgate demo: {taxpayers:,} synthetic taxpayers, {requests:,} requests, seed {seed}",
        style="bold"))
    with RichReporter(console) as reporter:
        with reporter.stage("generate", total=100) as st:
            done = [0]

            def tick(_stage: str, fraction: float) -> None:
                step = int(fraction * 100) - done[0]
                if step > 0:
                    st.advance(step)
                    done[0] += step

            report = generate(data, taxpayers=taxpayers, requests=requests, seed=seed,
                              progress=tick)
        with reporter.stage("load master", total=1) as st:
            load_master(report.master_path, settings.resolved_match_store())
            st.advance()
        services = Services.open(settings)
        agreement = services.load_agreement(example_path("agreement.toml"))
        result = services.verify_batch(
            requests_path=report.requests_path, manifest_path=report.manifest_path,
            responses_path=out / "responses.csv", decisions_path=out / "decisions.csv",
            reporter=reporter)
    console.print(f"Agreement in force: [bold]{agreement.agreement_id}[/] "
                  f"version {agreement.version}")
    print_batch_summary(console, result)
    with report.truth_path.open(newline="", encoding="utf-8") as fh:
        truth = {row["request_id"]: row for row in csv.DictReader(fh)}
    decisions = services.store.decisions_for_batch(batch_id=result.batch_id)
    console.print(accuracy_table(evaluate(decisions, truth)))
    console.print(f"Audit database (operational store):  [bold]"
                  f"{settings.resolved_database_url().removeprefix('sqlite:///')}[/]")
    console.print(f"Master store (DuckDB):               [bold]"
                  f"{settings.resolved_match_store()}[/]")
    chain = services.verify_audit()
    verdict = ("[green]chain intact[/]" if chain.ok
               else f"[red]chain broken[/]: {chain.problem}")
    console.print(f"Audit chain: {verdict} ({chain.events:,} events)")


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
