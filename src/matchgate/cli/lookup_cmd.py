"""`matchgate lookup`: one request, answered in process from the fast path's candidate index."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from matchgate.audit import AuditEvent, AuditLog, EventType
from matchgate.gate import check_manifest, check_request
from matchgate.intake import load_manifest
from matchgate.match.fastpath import FastPath
from matchgate.pipeline import decide_single, thresholds_of
from matchgate.service import Services
from matchgate.settings import Settings

console = Console()


def lookup(
    manifest: Annotated[Path, typer.Option(
        "--manifest", "-m", help="The manifest the request comes under (TOML or JSON): "
        "agreement, legal basis, requesting official, certification.", show_default=False)],
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
    tax_periods: Annotated[str | None, typer.Option(
        "--tax-periods", help="Taxable period(s), e.g. 2022;2023.")] = None,
    statutory_authority: Annotated[str | None, typer.Option(
        "--statutory-authority", help="The statutory authority of the proceeding.")] = None,
    reason: Annotated[str | None, typer.Option(
        "--reason", help="The specific reason the information is relevant.")] = None,
    case_number: Annotated[str | None, typer.Option(
        "--case-number", help="Case number, where the agreement requires one.")] = None,
    order_date: Annotated[str | None, typer.Option(
        "--order-date", help="Date of the order, where the agreement requires one.")] = None,
    home: Annotated[Path | None, typer.Option(
        "--home", help="matchgate's data folder (default: $MATCHGATE_HOME or ./matchgate-data).")
    ] = None,
) -> None:
    """Verify one person against the master file while you wait.

    The request goes through the same gate as a batch first (every element its legal basis
    requires, and the address gate): a request that fails is answered with its REJECTED code and
    nothing is looked up. Then it uses a candidate index of the master store (built on first use
    for each master version, next to the store) and the same model and decision rules as a batch.
    The lookup is recorded in the audit log. It answers with the code only: a last known address
    leaves the custodian only through a batch or the API, which account for each disclosure.
    """
    settings = Settings(home=home) if home else Settings()
    services = Services.open(settings)
    terms_manifest = load_manifest(manifest)
    terms = services.agreement_in_force(terms_manifest.agreement_id)
    fields = {"request_id": "lookup", "first_name": first, "middle_name": middle,
              "last_name": last, "suffix": suffix, "date_of_birth": dob, "tin": tin,
              "street": street, "unit": unit, "city": city, "state": state, "zip": zip_code,
              "tax_periods": tax_periods, "statutory_authority": statutory_authority,
              "reason": reason, "case_number": case_number, "order_date": order_date}
    log = AuditLog(services.store)
    today = date.today()
    rejections = (check_manifest(terms_manifest, terms, today=today)
                  or check_request(fields, terms_manifest, terms, today=today))
    if rejections:
        first_problem = rejections[0]
        log.append([AuditEvent(event_type=EventType.REQUEST_LOOKUP, actor=services.actor.name,
                               role=services.actor.role, origin="cli", outcome="failure",
                               agreement_version=terms.version,
                               details={"reason": first_problem.reason,
                                        "field": first_problem.field})])
        table = Table(show_header=False, title="lookup (rejected by the gate)")
        table.add_row("code", first_problem.code.value)
        table.add_row("reason", first_problem.reason)
        table.add_row("detail", first_problem.message)
        console.print(table)
        return
    fastpath = FastPath(settings.resolved_match_store())
    started = time.perf_counter()
    decision, candidates = decide_single(fastpath, fields, thresholds_of(terms))
    millis = (time.perf_counter() - started) * 1000
    details: dict[str, object] = {"code": decision.code.value, "reason": decision.reason,
                                  "candidates": len(candidates),
                                  "master_version": fastpath.master_version}
    if decision.matched_tin:
        details["taxpayer"] = log.tin_ref(decision.matched_tin)
    log.append([AuditEvent(event_type=EventType.REQUEST_LOOKUP, actor=services.actor.name,
                           role=services.actor.role, origin="cli",
                           agreement_version=terms.version, details=details)])
    table = Table(show_header=False, title=f"lookup ({millis:.1f} ms)")
    table.add_row("code", decision.code.value)
    table.add_row("reason", decision.reason)
    console.print(table)


def register(app: typer.Typer) -> None:
    app.command("lookup")(lookup)
