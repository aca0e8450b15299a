"""CLI command: `matchgate report --batch ID` or `--from DATE --to DATE`."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from matchgate.errors import InputError
from matchgate.settings import Settings
from matchgate.store import Store
from matchgate.transparency import load_public_key, public_key_path


def report(
    out: Annotated[Path, typer.Option("--out", help="The HTML report to write.")],
    batch: Annotated[str | None, typer.Option("--batch", help="One batch.")] = None,
    start: Annotated[datetime | None, typer.Option(
        "--from", formats=["%Y-%m-%d"], help="First day batches were received (UTC).")] = None,
    end: Annotated[datetime | None, typer.Option(
        "--to", formats=["%Y-%m-%d"], help="Last day batches were received (inclusive).")]
    = None,
    public_key: Annotated[Path | None, typer.Option(
        "--public-key", help="Public key that signs checkpoints (default: the one beside "
                             "MATCHGATE_SIGNING_KEY).")] = None,
    database: Annotated[str | None, typer.Option(
        "--database", help="URL of the operational store (default: MATCHGATE_DATABASE_URL, "
                           "or the SQLite file in MATCHGATE_HOME)")] = None,
) -> None:
    """Write the oversight report: first whether the batch was lawful and accurate, then the
    volumes, rejection reasons, match scores, officials and anomalies behind that verdict."""
    if (batch is None) == (start is None or end is None) or (batch and (start or end)):
        raise InputError("give either --batch ID or both --from DATE and --to DATE")
    from matchgate.reports import gather, write_report  # altair and vl-convert: load on use

    settings = Settings()
    key_path = public_key or public_key_path(settings.resolved_signing_key())
    key = load_public_key(key_path) if key_path.exists() else None
    with Store.open(database or settings.resolved_database_url(), create=False) as store:
        data = gather(store, batch_id=batch, start=start.date() if start else None,
                      end=end.date() if end else None, public_key=key,
                      origin=settings.log_origin)
    write_report(data, out)
    typer.echo(f"Oversight report for {data.scope} written to {out}")


def register(app: typer.Typer) -> None:
    """Add this module's commands to the application."""
    app.command("report")(report)
