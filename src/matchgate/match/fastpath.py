"""The fast path for one request: the indexed engine (indexed.py) on a one-row table.

Splink's per-call prediction scans the whole master (seconds at 10 million rows). The key index
(keyindex.py), built once per master version, finds a request's candidate rows by binary search
and the model scores them in a small DuckDB query: the same code as a batch on the indexed
engine, so a single request and the same request in a batch get the same candidates, scores and
evidence (a test also compares them with the Splink engine's).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from matchgate.match.blocking import BLOCK_KEY_CAP, rare_flag
from matchgate.match.indexed import IndexedMatchEngine
from matchgate.match.inputs import requests_input
from matchgate.match.keyindex import index_dir_for
from matchgate.match.settings import MODEL_COLUMNS
from matchgate.standardize import standardize_record

__all__ = ["FastPath", "index_dir_for"]

#: a made-up person (no real one) whose lookup warms the fast path up: common enough a name and
#: place to reach candidate rows, so that every step of a lookup runs once
WARM_UP_FIELDS: dict[str, str | None] = {
    "first_name": "Maria", "last_name": "Garcia", "date_of_birth": "1980-01-01",
    "street": "100 Main St", "city": "Springfield", "state": "IL", "zip": "62701"}


def request_table(request: dict[str, Any]) -> pa.Table:
    """One standardized request (request_id and the model's std_* columns) as a table."""
    # typed arrays: inferring a type makes pyarrow look for pandas on every call
    return pa.table({"request_id": pa.array([request.get("request_id") or "lookup"],
                                            type=pa.string()),
                     **{c: pa.array([request.get(c)], type=pa.string()) for c in MODEL_COLUMNS}})


class FastPath:
    """Candidates for single requests (standardized, one row per request) in milliseconds."""

    def __init__(self, store_path: Path, model_path: Path | None = None, *,
                 build: bool = True, key_cap: int = BLOCK_KEY_CAP) -> None:
        from matchgate.match.train import DEFAULT_MODEL_PATH

        self.engine = IndexedMatchEngine(Path(store_path), model_path or DEFAULT_MODEL_PATH,
                                         key_cap=key_cap, build=build, threads=1)
        self.store_path = self.engine.store_path
        self.key_cap = key_cap
        self.master_version = self.engine.master_version
        self.directory = self.engine.index.directory
        self.rows = self.engine.index.rows

    def blocked(self, request: dict[str, Any]) -> tuple[np.ndarray, frozenset[int]]:
        """Positions of the master rows that share every key of some blocking rule with the
        request (SQL equality: a missing key never pairs), and the model's rules left out
        because the request's key is frequent in the master (blocking.BLOCK_KEY_CAP)."""
        found = self.engine.block(requests_input(request_table(request)))
        sets = self.engine.sets
        capped = frozenset(n for n, keys in enumerate(self.engine.keys)
                           if not found.rare[rare_flag(keys, sets)][0])
        return found.position, capped

    def positions(self, request: dict[str, Any]) -> np.ndarray:
        return self.blocked(request)[0]

    def find_candidates(self, request: dict[str, Any], *,
                        threshold_probability: float = 0.01) -> list[dict[str, Any]]:
        """Candidate rows as the bulk engine gives them (CANDIDATE_COLUMNS), best first."""
        return self.engine.candidate_rows(request_table(request),
                                          threshold_probability=threshold_probability)

    def warm_up(self) -> float:
        """Look up one made-up request and drop its answer; returns the seconds it took. The
        first lookup after opening pays for what is read on first use (the key files' pages,
        the term frequencies, the scorer's first query: some seconds at 10 million
        taxpayers): a service warms up when it starts, so that no waiting person pays."""
        started = time.monotonic()
        self.find_candidates({"request_id": "warm-up", **standardize_record(WARM_UP_FIELDS)})
        return time.monotonic() - started
