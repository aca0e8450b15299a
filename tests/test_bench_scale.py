"""The scale benchmark's bookkeeping: runs of another engine are kept beside the default's."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.scale.run import engine_of, merge  # noqa: E402
from bench.tables import _engine  # noqa: E402


def _run(taxpayers: int, batch: int, seconds: float, engine: str | None = None) -> dict:
    run = {"taxpayers": taxpayers, "batch": batch, "verify": {"seconds": seconds}}
    if engine is not None:
        run["engine"] = engine
    return run


def test_a_run_replaces_only_the_run_of_its_sizes_and_engine() -> None:
    results = {"runs": [_run(10, 5, 1.0), _run(10, 7, 2.0)]}  # from before --engine
    merge(results, _run(10, 5, 9.0, "duckdb"))
    assert [(r["batch"], engine_of(r), r["verify"]["seconds"]) for r in results["runs"]] == \
        [(5, "indexed", 1.0), (5, "duckdb", 9.0), (7, "indexed", 2.0)]
    merge(results, _run(10, 5, 3.0, "indexed"))
    merge(results, _run(10, 5, 8.0, "duckdb"))
    assert [(r["batch"], engine_of(r), r["verify"]["seconds"]) for r in results["runs"]] == \
        [(5, "indexed", 3.0), (5, "duckdb", 8.0), (7, "indexed", 2.0)]
    assert _engine(results["runs"][1]) == " (duckdb engine)"
    assert _engine(results["runs"][0]) == ""
