"""Load benchmark: the real server and workers on PostgreSQL, driven by concurrent clients.

    PYTHONPATH=src:. python -m bench.load.run         # 50 clients, 60 s, 20,000 taxpayers
    PYTHONPATH=src:. python -m bench.load.run --clients 100 --seconds 120 --workers 2

Creates a fresh PostgreSQL database on the server of --postgres (dropped afterwards unless
--keep), generates the data and loads the master store, puts the example agreement in force with
its rate limits raised for the load, starts `matchgate serve` and --workers `matchgate worker`,
and runs the clients (bench/load/driver.py). Then it waits for the workers to finish every batch
acknowledged, checks the invariants (bench/load/check.py) and writes throughput, latency
percentiles and statuses per route, the invariants and the load average to
bench/results/load.json. Exit status 1 if an invariant failed or any call got a 5xx.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bench.load.check import check, drain
from bench.load.driver import Mix, drive
from bench.load.world import cpu_seconds, prepare, running
from matchgate.store import Store

RESULTS = Path(__file__).resolve().parents[1] / "results" / "load.json"
POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@contextmanager
def fresh_database(server_url: str, *, keep: bool = False) -> Iterator[str]:
    """A new database on the server of `server_url` (dropped on the way out unless `keep`)."""
    name = f"matchgate_load_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
        finally:
            if not keep:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def loadavg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def measure(work: Path, database_url: str, *, clients: int, seconds: float, workers: int,
            taxpayers: int, requests: int, batch_rows: int, requesters: int, reviewers: int,
            seed: int, drain_seconds: float = 300) -> dict[str, Any]:
    """One load run on a prepared work folder and an empty operational store: the results."""
    settings, req, rev = prepare(work, database_url, taxpayers=taxpayers, requests=requests,
                                 seed=seed, requesters=requesters, reviewers=reviewers)
    before = loadavg()
    with running(work, settings, req, rev, workers=workers) as world:
        cpu_before = {name: cpu_seconds(pid) for name, pid in world.pids.items()}
        load, elapsed = drive(world, clients=clients, seconds=seconds, batch_rows=batch_rows,
                              seed=seed)
        during = loadavg()
        cpu_after = {name: cpu_seconds(pid) for name, pid in world.pids.items()}
        cpu = {name: round((used - start) / elapsed, 2) for name, start in cpu_before.items()
               if start is not None and (used := cpu_after[name]) is not None}
        with Store.open(database_url) as store:
            acknowledged = [*load.ack.batches, *load.ack.singles]
            unfinished = drain(store, acknowledged, timeout=drain_seconds)
            invariants = check(store, load.ack, unfinished=unfinished)
    routes = load.rec.summary(elapsed)
    errors = {route: {s: n for s, n in r["statuses"].items() if not s.startswith("2")}
              for route, r in routes.items()}
    server_errors = sum(n for e in errors.values() for s, n in e.items() if s.startswith("5"))
    return {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "loadavg_before": before, "loadavg_end_of_load": during,
                    "loadavg_after": loadavg(),
                    # CPU seconds per second of the load (1.0: one core all the time)
                    "process_cpu_share": cpu},
        "setup": {"clients": clients, "mix": vars(Mix.of(clients)), "seconds": seconds,
                  "workers": workers, "taxpayers": taxpayers, "batch_rows": batch_rows,
                  "requester_tokens": requesters, "reviewer_tokens": reviewers,
                  "store": "postgresql", "server": "matchgate serve (uvicorn, 1 process)"},
        "elapsed_seconds": round(elapsed, 1),
        "calls": sum(r["calls"] for r in routes.values()),
        "calls_per_second": round(sum(r["calls"] for r in routes.values()) / elapsed, 1),
        "routes": routes,
        "errors": {route: e for route, e in errors.items() if e},
        "server_errors": server_errors,
        "acknowledged": {"batches": len(load.ack.batches), "single_requests":
                         len(load.ack.singles), "batch_requests":
                         sum(len(v) for v in load.ack.batches.values()),
                         "reviews_decided": len(load.ack.reviews),
                         # a worker claimed the one-request job first: answered by the batch
                         "single_requests_answered_later": sum(
                             code is None for _, code in load.ack.singles.values())},
        "invariants": invariants,
        "held": server_errors == 0 and all(i["held"] for i in invariants),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--taxpayers", type=int, default=20_000)
    parser.add_argument("--requests", type=int, default=20_000,
                        help="request rows generated for the clients (reused under new ids)")
    parser.add_argument("--batch-rows", type=int, default=10)
    parser.add_argument("--requesters", type=int, default=8, help="requester tokens")
    parser.add_argument("--reviewers", type=int, default=8,
                        help="reviewer users (one per reviewer client: two clients of one user "
                             "may both hold its claim, and the second decision is a 409)")
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--postgres", default=POSTGRES,
                        help="a database URL on the PostgreSQL server to use")
    parser.add_argument("--work", type=Path, default=Path("/tmp/matchgate-bench-load"))
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--keep", action="store_true", help="keep the database and work folder")
    args = parser.parse_args(argv)
    shutil.rmtree(args.work, ignore_errors=True)
    args.work.mkdir(parents=True)
    with fresh_database(args.postgres, keep=args.keep) as url:
        result = measure(args.work, url, clients=args.clients, seconds=args.seconds,
                         workers=args.workers, taxpayers=args.taxpayers,
                         requests=args.requests, batch_rows=args.batch_rows,
                         requesters=args.requesters, reviewers=args.reviewers, seed=args.seed)
    result["command"] = "PYTHONPATH=src:. python -m bench.load.run " + " ".join(
        argv if argv is not None else sys.argv[1:])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    for route, r in result["routes"].items():
        print(f"{route:34} {r['calls']:7} calls {r['per_second']:8.1f}/s  p50 "
              f"{r.get('p50_ms', '-')} p95 {r.get('p95_ms', '-')} p99 {r.get('p99_ms', '-')} ms "
              f"{r['statuses']}")
    for inv in result["invariants"]:
        print(f"{'held' if inv['held'] else 'FAILED':6} {inv['invariant']} "
              f"({inv['checked']} checked) {inv['examples'] or ''}")
    print(f"server errors (5xx): {result['server_errors']}; loadavg {result['machine']}")
    if not args.keep:
        shutil.rmtree(args.work, ignore_errors=True)
    return 0 if result["held"] else 1


if __name__ == "__main__":
    sys.exit(main())
