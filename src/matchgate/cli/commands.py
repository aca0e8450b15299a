"""Registers every command group on the application."""

from __future__ import annotations

import typer

from matchgate.cli import (
    accounting_cmd,
    agreement_cmd,
    audit_cmd,
    demo_cmd,
    explain_cmd,
    generate_cmd,
    incident_cmd,
    lookup_cmd,
    master_cmd,
    model_cmd,
    report_cmd,
    retention_cmd,
    service_cmd,
    verify_cmd,
)
from matchgate.cli.helptext import reflow_help


def register(app: typer.Typer) -> None:
    for module in (generate_cmd, master_cmd, model_cmd, agreement_cmd, verify_cmd, lookup_cmd,
                   audit_cmd, demo_cmd, accounting_cmd, retention_cmd, report_cmd, incident_cmd,
                   service_cmd, explain_cmd):
        module.register(app)
    reflow_help(app)
