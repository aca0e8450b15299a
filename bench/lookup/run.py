"""Single-request latency of the fast path: `decide_single` (standardize, candidate index,
scoring with the model, decision) on requests of a generated batch, in process.

    python bench/lookup/run.py --store /tmp/matchgate-bench/master-1000000.duckdb \
        --requests /tmp/matchgate-bench/data-1000000/requests.csv --count 2000

Writes the index build time, the warm-up's time (the API service warms the fast path up when it
starts; --cold leaves it out), its size on disk, the first and p50/p90/p99 latencies and the load
average (other work on the machine makes timings noisy) into bench/results/lookup.json (keyed by
the store's taxpayers).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import time
from pathlib import Path

import numpy as np

from matchgate.decide import Thresholds
from matchgate.master.store import open_master
from matchgate.match.fastpath import FastPath, index_dir_for
from matchgate.pipeline import decide_single

RESULTS = Path(__file__).resolve().parents[1] / "results" / "lookup.json"
THRESHOLDS = Thresholds(match_probability=0.95, review_probability=0.5, ambiguity_margin=3.0)


def _requests(path: Path, count: int) -> list[dict[str, str | None]]:
    with path.open(newline="", encoding="utf-8") as fh:
        rows = []
        for row in csv.DictReader(fh):
            rows.append({k: (v or None) for k, v in row.items()})
            if len(rows) == count:
                break
    return rows


def _size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="fast path latency")
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument("--requests", type=Path, required=True)
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--cold", action="store_true",
                        help="no warm-up: the first request pays for what is read on first use")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    with open_master(args.store) as store:
        meta = store.meta()
    folder = index_dir_for(args.store, meta.master_version)
    if args.rebuild:
        shutil.rmtree(folder, ignore_errors=True)
    load_start = [round(x, 2) for x in os.getloadavg()]
    started = time.monotonic()
    fastpath = FastPath(args.store)
    open_seconds = time.monotonic() - started
    # as the API service does when it starts (FastPaths.warm_up): what is read on first use is
    # read before the first request is timed, unless --cold
    warm_up_seconds = None if args.cold else fastpath.warm_up()
    latencies: list[float] = []
    codes: dict[str, int] = {}
    for fields in _requests(args.requests, args.count):
        t0 = time.perf_counter()
        decision, _ = decide_single(fastpath, fields, THRESHOLDS)
        latencies.append((time.perf_counter() - t0) * 1000)
        codes[decision.code.value] = codes.get(decision.code.value, 0) + 1
    ms = np.asarray(latencies)
    result = {"history_rows": meta.history_rows, "taxpayers": meta.taxpayers,
              "build_or_open_seconds": round(open_seconds, 2),
              "warm_up_seconds": None if warm_up_seconds is None else round(warm_up_seconds, 2),
              "first_ms": round(float(ms[0]), 2),
              "index_bytes": _size(folder), "requests": len(latencies),
              "p50_ms": round(float(np.percentile(ms, 50)), 2),
              "p90_ms": round(float(np.percentile(ms, 90)), 2),
              "p99_ms": round(float(np.percentile(ms, 99)), 2),
              "max_ms": round(float(ms.max()), 2), "codes": codes,
              "block_key_cap": fastpath.key_cap,
              "load_average": {"start": load_start,
                               "end": [round(x, 2) for x in os.getloadavg()]}}
    print(json.dumps(result))
    results = json.loads(args.out.read_text()) if args.out.exists() else {"runs": []}
    results["runs"] = [r for r in results["runs"] if r["taxpayers"] != meta.taxpayers]
    results["runs"].append(result)
    results["runs"].sort(key=lambda r: r["taxpayers"])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
