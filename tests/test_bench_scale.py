"""The scale benchmark's bookkeeping: runs of another engine are kept beside the default's."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.scale.run import engine_of, master_file, merge, reusable  # noqa: E402
from bench.tables import _engine, _stages  # noqa: E402


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


def test_a_store_is_reused_only_for_the_master_file_it_was_loaded_from(tmp_path: Path) -> None:
    """Asking for more requests generates the population again (its TINs depend on the request
    plan): a store loaded from the earlier file must be loaded again, not reused."""
    import json
    import os

    data = tmp_path / "data"
    data.mkdir()
    (data / "master.parquet").write_bytes(b"first population")
    kept = tmp_path / "master.duckdb.load.json"
    assert reusable(kept, master_file(data)) is None  # never loaded
    kept.write_text(json.dumps({"seconds": 12.5, "master_file": master_file(data)}))
    assert reusable(kept, master_file(data)) == {"seconds": 12.5,
                                                  "master_file": master_file(data)}
    (data / "master.parquet").write_bytes(b"second population, generated again")
    assert reusable(kept, master_file(data)) is None
    kept.write_text(json.dumps({"seconds": 12.5}))  # from before the file was recorded
    assert reusable(kept, master_file(data)) is None
    os.utime(data / "master.parquet", ns=(1, 1))
    assert master_file(data)["mtime_ns"] == 1


def test_a_load_cell_gives_its_stages_where_the_load_recorded_them() -> None:
    assert _stages({"seconds": 860.0}) == ""  # loads before stage seconds were recorded
    assert _stages({"seconds": 9.0, "stages": {"standardize": 5.4, "store": 2.6,
                                               "blocking": 1.0}}) == \
        " (standardize 5, store 3, blocking 1)"


def test_the_yardstick_times_each_part_of_its_work_in_a_fresh_process() -> None:
    """The scale benchmark records the machine's speed before and after a verify: three parts
    of matchgate's kind of work, each one core's CPU seconds, measured in a process of their
    own (so that nothing the benchmark cached makes them cheaper)."""
    from bench.yardstick import yardstick

    parts = yardstick()
    assert set(parts) == {"python", "numpy", "duckdb"}
    assert all(isinstance(v, float) and v > 0 for v in parts.values()), parts
