"""`matchgate lookup`: one request, answered in process from the fast path's candidate index."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from matchgate.audit import AuditEvent, AuditLog
from matchgate.match.fastpath import FastPath
from matchgate.pipeline import decide_single, thresholds_of
from matchgate.respond import disclosed_fields
from matchgate.service import Services
from matchgate.settings import Settings

console = Console()


def lookup(
    agreement: Annotated[str, typer.Option(
        "--agreement", "-a", help="The agreement in force whose thresholds and disclosable "
        "fields apply.", show_default=False)],
    first: Annotated[str | None, typer.Option("--first", help="First name.")] = None,
    middle: Annotated[str | None, typer.Option("--middle", help="Middle name.")] = None,
    last: Annotated[str | None, typer.Option("--last", help="Last name.")] = None,
    suffix: Annotated[str | None, typer.Option("--suffix", help="Suffix (JR, SR, III).")]
    = None,
    dob: Annotated[str | None, typer.Option("--dob", help="Date of birth (YYYY-MM-DD).")]
    = None,
    tin: Annotated[str | None, typer.Option("--tin", help="TIN, if the request has one.")]
    = None,
    street: Annotated[str | None, typer.Option("--street", help="Street line.")] = None,
    unit: Annotated[str | None, typer.Option("--unit", help="Apartment or suite.")] = None,
    city: Annotated[str | None, typer.Option("--city", help="City.")] = None,
    state: Annotated[str | None, typer.Option("--state", help="State.")] = None,
    zip_code: Annotated[str | None, typer.Option("--zip", help="ZIP code.")] = None,
    home: Annotated[Path | None, typer.Option(
        "--home", help="matchgate's data folder (default: $MATCHGATE_HOME or ./matchgate-data).")
    ] = None,
) -> None:
    """Verify one person against the master file while you wait.

    Uses a candidate index of the master store (built on first use for each master version,
    next to the store) and the same model and decision rules as a batch. The lookup is recorded
    in the audit log.
    """
    settings = Settings(home=home) if home else Settings()
    services = Services.open(settings)
    terms = services.agreement_in_force(agreement)
    fastpath = FastPath(settings.resolved_match_store())
    fields = {"first_name": first, "middle_name": middle, "last_name": last, "suffix": suffix,
              "date_of_birth": dob, "tin": tin, "street": street, "unit": unit, "city": city,
              "state": state, "zip": zip_code}
    started = time.perf_counter()
    decision, candidates = decide_single(fastpath, fields, thresholds_of(terms))
    millis = (time.perf_counter() - started) * 1000
    best = decision.best
    disclosed = disclosed_fields(decision.code, best.last_address if best else None,
                                 terms.disclosure.disclosable_fields)
    log = AuditLog(services.store)
    details: dict[str, object] = {"code": decision.code.value, "reason": decision.reason,
                                  "candidates": len(candidates),
                                  "master_version": fastpath.master_version}
    if decision.matched_tin:
        details["taxpayer"] = log.tin_ref(decision.matched_tin)
    log.append([AuditEvent(event_type="request.lookup", actor=services.actor.name,
                           role=services.actor.role, origin="cli",
                           agreement_version=terms.version, details=details)])
    table = Table(show_header=False, title=f"lookup ({millis:.1f} ms)")
    table.add_row("code", decision.code.value)
    table.add_row("reason", decision.reason)
    for name, value in disclosed.items():
        table.add_row(f"disclosed {name}", str(value or ""))
    console.print(table)


def register(app: typer.Typer) -> None:
    app.command("lookup")(lookup)
