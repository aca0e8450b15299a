"""The single-request path of the API (POST /api/v1/requests) on the fast path.

A single request is stored as a one-row batch job, as before, and run through the same worker
and pipeline (gate, standardize, decide, record, respond): the decision row, the accounting
record and the audit events are the ones a batch records for that request. Only the match engine
differs: instead of Splink over the whole master (seconds per call), the fast path's in-process
candidate index (matchgate.match.fastpath, the one `matchgate lookup` uses), which a test shows
gives the bulk engine's candidates, scores and evidence.

The index is opened once per master version in the API process and shared by its threads (one
lookup at a time: each takes milliseconds); a new master store (another file, or the same path
rewritten) is noticed by its file's identity and size, and its index opened (built on first use).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pyarrow as pa

from matchgate.match.engine import _empty_candidates
from matchgate.match.fastpath import FastPath
from matchgate.service import Services
from matchgate.store import jobs
from matchgate.worker import Worker

log = logging.getLogger(__name__)

CANDIDATE_SCHEMA = _empty_candidates().schema
#: how long a single request waits for another holder of its job (a batch worker) to finish
WAIT_FOR_OTHERS_SECONDS = 60.0


class FastPathEngine:
    """A MatchEngine over the fast path's index (the indexed engine of its master)."""

    def __init__(self, fastpath: FastPath) -> None:
        self.fastpath = fastpath
        self.master_version = fastpath.master_version
        self._lock = threading.Lock()  # the scorer's DuckDB connection serves one call at a time

    def find_candidates(self, requests: pa.Table, *,
                        threshold_probability: float = 0.01) -> pa.Table:
        with self._lock:
            rows = self.fastpath.engine.candidate_rows(
                requests, threshold_probability=threshold_probability)
        return pa.Table.from_pylist(rows, schema=CANDIDATE_SCHEMA)

    def warm_up(self) -> float:
        with self._lock:
            return self.fastpath.warm_up()


def _identity(path: Path) -> tuple[int, int, int, int]:
    stat = os.stat(path)
    return stat.st_dev, stat.st_ino, stat.st_mtime_ns, stat.st_size


class FastPaths:
    """The fast path engine of the master store in use, opened once per master file."""

    def __init__(self, store_path: Path) -> None:
        self.store_path = Path(store_path)
        self._lock = threading.Lock()
        self._engine: FastPathEngine | None = None
        self._identity: tuple[int, int, int, int] | None = None
        #: seconds the last warm-up took (None: not warmed up)
        self.warmed: float | None = None

    def engine(self) -> FastPathEngine:
        identity = _identity(self.store_path) if self.store_path.exists() else None
        with self._lock:
            if self._engine is None or identity != self._identity:
                self._engine = FastPathEngine(FastPath(self.store_path))
                self._identity = identity
            return self._engine

    def warm_up(self) -> None:
        """Open the master's index and look up one made-up request (FastPath.warm_up), so that
        the first single request does not wait for it; a missing or unreadable master store is
        logged (the requests that need it say what is wrong)."""
        try:
            seconds = self.engine().warm_up()
        except Exception as exc:  # a warm-up never stops the service
            log.warning("the fast path was not warmed up (%s): the first single request "
                        "opens it", exc)
            return
        self.warmed = seconds
        log.info("fast path warmed up in %.1f s", seconds)

    def warm_up_in_background(self) -> threading.Thread:
        thread = threading.Thread(target=self.warm_up, name="fast-path-warm-up", daemon=True)
        thread.start()
        return thread


def run_single(services: Services, fastpaths: FastPaths, *, batch_id: str,
               worker: str) -> str | None:
    """Claim the one-request job and run it on the fast path (None: someone else holds it)."""
    fast = replace(services, _engine=fastpaths.engine())
    return Worker(fast, name=worker).run_once(batch_id=batch_id)


def answer_single(services: Services, fastpaths: FastPaths, job: dict[str, Any], *,
                  worker: str, wait: float = WAIT_FOR_OTHERS_SECONDS) -> None:
    """Run the one-request job here; if a batch worker claimed it first (between its submission
    and this claim), or the same request is already being answered, wait a while for that."""
    if job["status"] in ("queued", "failed") and run_single(
            services, fastpaths, batch_id=job["batch_id"], worker=worker) is not None:
        return
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        current = jobs.get_job(services.store, batch_id=job["batch_id"])
        if current is None or current["status"] in ("done", "failed"):
            return
        time.sleep(0.2)
