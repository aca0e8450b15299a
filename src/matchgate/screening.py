"""The per-request work of the gate, spread over the cores: each request's duplicate key, its
first problem (check_request) and, for a request without one, its standardized columns, in
worker processes for a large batch.

The checks are the gate's pure functions and the standardization is standardize_table; only where
they run changes. Both parse the address, so doing them in the same process parses each street
line once (the parse is cached per process). A batch below PARALLEL_FROM requests, or a machine
with one core, is screened in this process.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from datetime import date
from multiprocessing import get_context
from typing import TYPE_CHECKING

import pyarrow as pa

from matchgate import collector
from matchgate.agreement import Agreement
from matchgate.columns import REQUEST_COLUMNS, STD_COLUMNS
from matchgate.gate import Rejection
from matchgate.gate.verdicts import for_batch
from matchgate.standardize import standardize_table

if TYPE_CHECKING:
    from matchgate.intake import Manifest, RequestRow

PARALLEL_FROM = 20_000
PART = 10_000

Fields = dict[str, str | None]
Screened = tuple[str, Rejection | None]


@dataclass(frozen=True)
class Screening:
    """Duplicate keys by request_id, the first problem of each request that has one, and the
    standardized columns (request_id and STD_COLUMNS) of each checked request without one."""

    keys: dict[str, str]
    problems: dict[str, Rejection]
    standardized: pa.Table


def standardize_fields(ids: Sequence[str], fields: Sequence[Fields]) -> pa.Table:
    """request_id and every STD_COLUMNS column of each request's fields, as strings."""
    arrays = {c: pa.array([f.get(c) for f in fields], type=pa.string())
              for c in REQUEST_COLUMNS if c != "request_id"}
    table = pa.table({"request_id": pa.array(ids, type=pa.string()), **arrays})
    return standardize_table(table).select(["request_id", *STD_COLUMNS])


def screen_part(ids: Sequence[str], fields: Sequence[Fields], check: Sequence[bool],
                manifest: Manifest, agreement: Agreement, today: date
                ) -> tuple[list[Screened], pa.Table]:
    """(duplicate key, first problem or None) per request, and the standardized columns of the
    checked requests without a problem; a request whose `check` is False is not checked (it is
    rejected already)."""
    with collector.paused():  # a part's objects are freed when it returns
        return _screen_part(ids, fields, check, manifest, agreement, today)


def _screen_part(ids: Sequence[str], fields: Sequence[Fields], check: Sequence[bool],
                 manifest: Manifest, agreement: Agreement, today: date
                 ) -> tuple[list[Screened], pa.Table]:
    verdicts = for_batch(manifest, agreement, today)
    out: list[Screened] = []
    for values, wanted in zip(fields, check, strict=True):
        parsed = verdicts.parsed(values)
        out.append((verdicts.key(values, parsed),
                    verdicts.first_problem(values, parsed) if wanted else None))
    ok = [n for n, ((_, problem), wanted) in enumerate(zip(out, check, strict=True))
          if wanted and problem is None]
    return out, standardize_fields([ids[n] for n in ok], [fields[n] for n in ok])


def default_workers() -> int:
    return max(1, os.cpu_count() or 1)


class Screener:
    """Screens a batch part by part as it is read (`add` each request, then `result`): once
    `parallel_from` requests have come, every `part` of them goes to a worker process as soon as
    it is complete, so that the cores screen while the file is still being read (reading alone,
    one process with the other core idle, took some 20 s of a 1.28 million request batch). A
    batch smaller than that, or a machine with one core, is screened in this process at the
    end. The parts, and so the results, are those of `screen`. Use it as a context manager: a
    file that fails half-way stops the workers."""

    def __init__(self, manifest: Manifest, agreement: Agreement, *, today: date,
                 check: bool = True, workers: int | None = None,
                 parallel_from: int = PARALLEL_FROM, part: int = PART) -> None:
        self._task = (manifest, agreement, today)
        self.part = part
        self.check = check
        self.workers = workers or default_workers()
        self.parallel_from = parallel_from
        self.rows: list[RequestRow] = []
        self._waiting: list[RequestRow] = []
        self._parts: list[Future[tuple[list[Screened], pa.Table]]] = []
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> Screener:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the workers (parts not started are dropped)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def add(self, row: RequestRow) -> None:
        self.rows.append(row)
        self._waiting.append(row)
        if self._pool is None and self.workers > 1 and len(self.rows) >= self.parallel_from:
            self._pool = ProcessPoolExecutor(max_workers=self.workers,
                                             mp_context=get_context("spawn"))
        if self._pool is not None:
            while len(self._waiting) >= self.part:
                self._submit(self._waiting[:self.part])
                del self._waiting[:self.part]

    def _submit(self, rows: Sequence[RequestRow]) -> None:
        assert self._pool is not None
        self._parts.append(self._pool.submit(screen_part, *self._part(rows), *self._task))

    def _part(self, rows: Sequence[RequestRow]
              ) -> tuple[list[str], list[Fields], list[bool]]:
        return ([r.request_id for r in rows], [r.fields for r in rows],
                [self.check and r.intake_rejection is None for r in rows])

    def result(self) -> Screening:
        """Every added request's duplicate key, first problem and standardized columns."""
        if self._pool is None:
            parts = [screen_part(*self._part(self._waiting), *self._task)]
        else:
            if self._waiting:
                self._submit(self._waiting)
            parts = [future.result() for future in self._parts]
            self.close()
        self._waiting = []
        rows = self.rows
        results = [screened for part, _ in parts for screened in part]
        keys = {r.request_id: key for r, (key, _) in zip(rows, results, strict=True)}
        problems = {r.request_id: problem for r, (_, problem) in zip(rows, results, strict=True)
                    if problem is not None}
        standardized = pa.concat_tables([table for _, table in parts]).combine_chunks()
        return Screening(keys, problems, standardized)


def screen(rows: Sequence[RequestRow], manifest: Manifest, agreement: Agreement, *,
           today: date, check: bool = True, workers: int | None = None,
           parallel_from: int = PARALLEL_FROM, part: int = PART) -> Screening:
    """Each request's duplicate key, its first problem, and its standardized columns (rows
    rejected at intake, or every row when `check` is False, are not checked)."""
    with Screener(manifest, agreement, today=today, check=check, workers=workers,
                  parallel_from=parallel_from, part=part) as screener:
        for row in rows:
            screener.add(row)
        return screener.result()
