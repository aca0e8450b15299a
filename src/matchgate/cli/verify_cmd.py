"""`matchgate verify`: one batch through the whole pipeline."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from matchgate.cli.output import print_batch_summary
from matchgate.progress import RichReporter
from matchgate.service import Services
from matchgate.settings import Settings

console = Console()


def verify(
    requests: Annotated[Path, typer.Argument(
        help="The request file: CSV (UTF-8), JSON Lines (.jsonl) or Parquet, one row per person.",
        show_default=False)],
    manifest: Annotated[Path, typer.Option(
        "--manifest", "-m", help="The batch manifest (TOML or JSON): agreement, legal basis, "
        "requesting official, certification.", show_default=False)],
    out: Annotated[Path, typer.Option(
        "--out", "-o", help="Where to write the response file for the requesting agency (CSV).",
        show_default=False)],
    decisions: Annotated[Path | None, typer.Option(
        "--decisions", help="Also write the decision export (custodian and oversight only: TINs "
        "and scores).")] = None,
    home: Annotated[Path | None, typer.Option(
        "--home", help="matchgate's data folder (default: $MATCHGATE_HOME or ./matchgate-data).")
    ] = None,
) -> None:
    """Verify a batch of requests against the master file.

    Every request is checked for the elements its legal basis requires and for a real address
    before anything is looked up; the rest are matched against the master store, decided under
    the agreement's thresholds, answered in OUT and recorded in the audit log. Running the same
    batch again resumes it: no request is ever answered twice.
    """
    settings = Settings(home=home) if home else Settings()
    services = Services.open(settings)
    with RichReporter(console) as reporter:
        result = services.verify_batch(requests_path=requests, manifest_path=manifest,
                                       responses_path=out, decisions_path=decisions,
                                       reporter=reporter)
    print_batch_summary(console, result)


def register(app: typer.Typer) -> None:
    app.command("verify")(verify)
