"""CLI commands: `matchgate audit verify | consistency | checkpoint | export`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from matchgate.audit import AuditLog
from matchgate.audit.consistency import check_store
from matchgate.audit.export import export_log
from matchgate.audit.offline import verify_export
from matchgate.audit.tlog import Signer, TransparencyLog
from matchgate.cli.options import DatabaseOption, database_url
from matchgate.errors import InputError, NotFound, StoreInconsistent
from matchgate.settings import Settings
from matchgate.store import Store
from matchgate.transparency import load_public_key, public_key_path

audit_app = typer.Typer(help="The audit log: check that no event was changed, removed or moved; "
                             "sign checkpoints; export it for oversight.",
                        no_args_is_help=True)



@audit_app.command("verify")
def verify(
    database: DatabaseOption = None,
    export: Annotated[Path | None, typer.Option(
        "--export", help="Verify this audit export instead of the store (no store needed).")]
    = None,
    public_key: Annotated[Path | None, typer.Option(
        "--public-key", help="The custodian's public key (PEM) that signs checkpoints; needed "
                             "with --export.")] = None,
    event: Annotated[int | None, typer.Option(
        "--event", help="With --export: also prove that the event with this seq is included "
                        "in the latest checkpoint covering it.")] = None,
) -> None:
    """Recompute the audit log's hash chain; exit 0 if intact, 4 where it breaks.

    With --export FILE --public-key KEY, verify an export on its own: the chain, every
    checkpoint's signature and Merkle root, consistency between successive checkpoints, and
    (with --event SEQ) the inclusion of one event. Every failure is listed.
    """
    if export is None:
        if public_key is not None or event is not None:
            raise InputError("--public-key and --event go with --export FILE")
        with Store.open(database_url(database), create=False) as store:
            report = AuditLog(store).verify()
        typer.echo(report.summary())
        report.raise_if_broken()
        return
    if public_key is None:
        raise InputError("verifying an export needs the custodian's public key: --public-key "
                         "FILE")
    result = verify_export(export, load_public_key(public_key), event_seq=event)
    typer.echo(result.summary())
    if result.inclusion is not None:
        inc = result.inclusion
        typer.echo(f"inclusion proof of event {inc.seq} in the tree of {inc.tree_size}:")
        for h in inc.proof:
            typer.echo(f"  {h.hex()}")
    result.raise_if_failed()


@audit_app.command("consistency")
def consistency(
    database: DatabaseOption = None,
    batch: Annotated[str | None, typer.Option(
        "--batch", help="Check this batch only (default: every batch).")] = None,
) -> None:
    """Check what a crash or an edit must never break; exit 0 if consistent, 4 otherwise.

    Per batch: one batch.received naming the stored requests (their number and the digest of
    their ids), at most one decision per request with one decision event, one accounting
    record and one disclosure event per disclosure, and, once done, one batch.completed naming
    every response. Then the hash chain. Every problem is listed.
    """
    with Store.open(database_url(database), create=False) as store:
        if batch is not None and store.get_batch(batch_id=batch) is None:
            raise NotFound(f"no batch {batch!r} in the store",
                           hint="check the batch id: `matchgate verify` prints it")
        report = check_store(store, batch_id=batch)
    typer.echo(report.summary() if report.ok else f"{len(report.problems)} problem(s):")
    for problem in report.problems:
        typer.echo(f"  {problem}")
    if not report.ok:
        raise StoreInconsistent(f"the store is not consistent: {report.problems[0]}",
                               hint="each problem is listed above; restore from a backup "
                                    "and report it as an incident")


@audit_app.command("checkpoint")
def checkpoint(database: DatabaseOption = None) -> None:
    """Sign a checkpoint over every audit event so far (MATCHGATE_SIGNING_KEY signs it)."""
    settings = Settings()
    signer = Signer.from_settings(settings)
    with Store.open(database_url(database)) as store:
        cp = TransparencyLog(store).checkpoint(signer, reason="on demand")
    typer.echo(f"checkpoint {cp.id}: {cp.tree_size} events, root {cp.root.hex()}")
    typer.echo(cp.note, nl=False)


@audit_app.command("export")
def export_command(
    out: Annotated[Path, typer.Option("--out", help="The export file (JSON Lines).")],
    database: DatabaseOption = None,
) -> None:
    """Sign a fresh checkpoint, then write every event and checkpoint to one file."""
    settings = Settings()
    signer = Signer.from_settings(settings)
    with Store.open(database_url(database)) as store:
        TransparencyLog(store).checkpoint(signer, reason="export")
        summary = export_log(store, out, origin=signer.origin)
    typer.echo(f"{summary.events} events and {summary.checkpoints} checkpoints written to "
               f"{summary.path}")
    typer.echo("verify it with: matchgate audit verify --export "
               f"{summary.path} --public-key {public_key_path(settings.resolved_signing_key())}")


def register(app: typer.Typer) -> None:
    """Add this module's commands to the application."""
    app.add_typer(audit_app, name="audit")
