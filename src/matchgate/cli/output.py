"""Tables people would rather look at than read."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from matchgate.codes import DISCLOSING_CODES, REASONS, REJECTION_CODES, Code
from matchgate.evaluate import Accuracy
from matchgate.pipeline import BatchResult

_STYLE = {Code.VERIFIED: "green", Code.ADDRESS_DIFFERS: "green", Code.NO_MATCH: "white",
          Code.AMBIGUOUS: "yellow", Code.PENDING_REVIEW: "yellow", Code.DENIED: "red"}


def codes_table(result: BatchResult) -> Table:
    table = Table(title=f"Responses by code (batch {result.batch_id})", title_justify="left")
    table.add_column("code")
    table.add_column("requests", justify="right")
    table.add_column("share", justify="right")
    table.add_column("discloses")
    total = sum(result.codes.values()) or 1
    for code in Code:
        n = result.codes.get(code.value, 0)
        if not n:
            continue
        discloses = ("last known address" if code == Code.ADDRESS_DIFFERS else
                     "the code only" if code in DISCLOSING_CODES else "nothing")
        style = "red" if code in REJECTION_CODES else _STYLE.get(code, "white")
        table.add_row(f"[{style}]{code.value}[/]", f"{n:,}", f"{n / total:.1%}", discloses)
    table.add_row("[bold]total[/]", f"[bold]{sum(result.codes.values()):,}[/]", "", "")
    return table


def reasons_table(result: BatchResult) -> Table:
    table = Table(title="Why requests were rejected", title_justify="left")
    table.add_column("reason")
    table.add_column("code")
    table.add_column("requests", justify="right")
    table.add_column("what it means")
    rows = [(r, n) for r, n in result.reasons.items()
            if r in REASONS and REASONS[r][0] in REJECTION_CODES]
    for reason, n in sorted(rows, key=lambda x: (-x[1], x[0])):
        code, text = REASONS[reason]
        table.add_row(reason, code.value, f"{n:,}", text)
    return table


def accuracy_table(acc: Accuracy) -> Table:
    table = Table(title="Accuracy against the generator's ground truth", title_justify="left")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_column("counted over")
    table.add_row("precision of disclosures", f"{acc.precision:.4%}",
                  f"{acc.correct_disclosures:,} right of {acc.disclosures:,} disclosures")
    table.add_row("recall", f"{acc.recall:.2%}",
                  f"{acc.in_master_disclosed_correctly:,} of {acc.in_master:,} valid requests "
                  "for taxpayers in the master file")
    table.add_row("in master, not NO_MATCH", f"{acc.not_no_match_rate:.2%}",
                  "the rest of those went to review or AMBIGUOUS, not to a wrong answer")
    table.add_row("people not in the master file disclosed", f"{acc.not_in_master_disclosed:,}",
                  f"of {acc.not_in_master:,}")
    table.add_row("invalid requests rejected", f"{acc.invalid_rejected_rate:.2%}",
                  f"{acc.invalid_rejected:,} of {acc.invalid:,}")
    table.add_row("valid requests rejected", f"{acc.valid_rejected:,}", "should be 0")
    return table


def print_batch_summary(console: Console, result: BatchResult) -> None:
    console.print(codes_table(result))
    if any(REASONS.get(r, (Code.VERIFIED,))[0] in REJECTION_CODES for r in result.reasons):
        console.print(reasons_table(result))
    console.print(f"Responses for the requesting agency: [bold]{result.responses_path}[/]")
    if result.decisions_path:
        console.print(f"Decision export (custodian only):    [bold]{result.decisions_path}[/]")
    if result.resumed:
        console.print(f"Resumed: {result.resumed:,} requests had already been answered.")
