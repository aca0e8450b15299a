"""The per-request work of the gate, spread over the cores: each request's duplicate key and its
first problem (check_request), in worker processes for a large batch.

The checks are the gate's pure functions; only where they run changes. A batch below
PARALLEL_FROM requests, or a machine with one core, is screened in this process.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from multiprocessing import get_context
from typing import TYPE_CHECKING

from matchgate.agreement import Agreement
from matchgate.gate import Rejection, check_request, dedupe_key

if TYPE_CHECKING:
    from matchgate.intake import Manifest, RequestRow

PARALLEL_FROM = 20_000
PART = 10_000

Fields = dict[str, str | None]
Screened = tuple[str, Rejection | None]


def screen_part(fields: Sequence[Fields], check: Sequence[bool], manifest: Manifest,
                agreement: Agreement, today: date) -> list[Screened]:
    """(duplicate key, first problem or None) per request; a request whose `check` is False is
    not checked (it is rejected already)."""
    out: list[Screened] = []
    for values, wanted in zip(fields, check, strict=True):
        key = dedupe_key(values)
        problem = None
        if wanted:
            problems = check_request(values, manifest, agreement, today=today)
            problem = problems[0] if problems else None
        out.append((key, problem))
    return out


def default_workers() -> int:
    return max(1, os.cpu_count() or 1)


def screen(rows: Sequence[RequestRow], manifest: Manifest, agreement: Agreement, *,
           today: date, check: bool = True, workers: int | None = None,
           parallel_from: int = PARALLEL_FROM) -> tuple[dict[str, str], dict[str, Rejection]]:
    """Duplicate keys by request_id, and the first problem of each request that has one (rows
    rejected at intake, or every row when `check` is False, are not checked)."""
    workers = workers or default_workers()
    fields = [r.fields for r in rows]
    wanted = [check and r.intake_rejection is None for r in rows]
    if workers == 1 or len(rows) < parallel_from:
        results = screen_part(fields, wanted, manifest, agreement, today)
    else:
        size = min(PART, -(-len(rows) // workers))
        results = []
        with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
            futures = [pool.submit(screen_part, fields[i:i + size], wanted[i:i + size],
                                   manifest, agreement, today)
                       for i in range(0, len(rows), size)]
            for future in futures:
                results.extend(future.result())
    keys = {r.request_id: key for r, (key, _) in zip(rows, results, strict=True)}
    problems = {r.request_id: problem for r, (_, problem) in zip(rows, results, strict=True)
                if problem is not None}
    return keys, problems
