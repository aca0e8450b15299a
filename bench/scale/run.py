"""The scale curve: generate, `matchgate master load` and `matchgate verify` at given sizes.

    python bench/scale/run.py --masters 1000000 --batches 100000 --work /tmp/mg-bench

For every master size it generates a synthetic population (with as many requests as the largest
batch), loads it once with `matchgate master load`, then for every batch size verifies the first
rows of the request file with `matchgate verify` in a fresh operational store. Each command runs
as a subprocess; its wall time and the peak resident memory of its whole process tree (sampled
with psutil every 0.1 s) are recorded. The stage times inside verify come from the
`batch.completed` audit event. Results are merged into bench/results/scale.json (keyed by master
and batch size) and drawn in bench/results/scale.png and scale.html.

The baseline runs in the same invocation on the same files: the plain Splink link_only model of
bench/accuracy/baseline.py (Jaro-Winkler names, Levenshtein street and ZIP, exact date of birth,
EM training, prediction; the 0.9 threshold applies to its answers) over the master file and the
same request file, as a subprocess measured like the others. A baseline that runs longer than
--baseline-timeout seconds is stopped and recorded as not finished, with the time it ran. Every
figure carries the load average (1, 5, 15 minutes) at its start and end: other work on the
machine makes timings noisy.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import psutil
from bench.yardstick import yardstick

from matchgate.match.blocking import BLOCK_KEY_CAP

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "bench" / "results"
BASELINE_TIMEOUT = 1200.0
DEFAULT_ENGINE = "indexed"


def matchgate_command() -> list[str]:
    return [sys.executable, "-m", "matchgate"]


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def measure(cmd: list[str], env: dict[str, str] | None = None,
            timeout: float | None = None) -> dict[str, Any]:
    """Run cmd; its wall seconds, the peak RSS (MiB) of its process tree, the peak of its
    private memory (RSS less the file pages it shares: the memory-mapped index is page cache
    the kernel can drop, not memory the process holds) and the load average at its start and
    end. Past `timeout` seconds the process tree is stopped and the figures say finished:
    false."""
    started = time.monotonic()
    load_start = load_average()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            env={**os.environ, **(env or {})}, start_new_session=True)
    root = psutil.Process(proc.pid)
    peak = private = 0
    finished = True
    with tempfile.TemporaryFile() as sink:
        drain = threading.Thread(target=shutil.copyfileobj, args=(proc.stdout, sink),
                                 daemon=True)
        drain.start()
        while proc.poll() is None:
            try:
                tree = [root, *root.children(recursive=True)]
                memory = [p.memory_info() for p in tree if p.is_running()]
                peak = max(peak, sum(m.rss for m in memory))
                private = max(private, sum(m.rss - getattr(m, "shared", 0) for m in memory))
            except psutil.Error:
                pass
            if timeout is not None and time.monotonic() - started > timeout:
                finished = False
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                break
            time.sleep(0.1)
        drain.join()
        sink.seek(0)
        output = sink.read().decode("utf-8", "replace")
    if finished and proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{output[-3000:]}")
    return {"seconds": round(time.monotonic() - started, 2),
            "peak_rss_mib": round(peak / 2**20, 1),
            "peak_private_mib": round(private / 2**20, 1), "finished": finished,
            "load_average": {"start": load_start, "end": load_average()}}


def head_csv(source: Path, target: Path, rows: int) -> None:
    """The header and the first `rows` data rows of a CSV (requests hold no embedded newlines
    in the generator's output)."""
    with source.open(encoding="utf-8") as src, target.open("w", encoding="utf-8") as out:
        for i, line in enumerate(src):
            if i > rows:
                break
            out.write(line)


def generate(work: Path, taxpayers: int, requests: int) -> tuple[Path, dict[str, Any]]:
    data = work / f"data-{taxpayers}"
    for done in sorted(data.glob(".complete-*")):  # a file with at least as many requests
        if int(done.name.split("-")[1]) >= requests:
            return data, json.loads(done.read_text())
    marker = data / f".complete-{requests}"
    shutil.rmtree(data, ignore_errors=True)
    figures = measure([*matchgate_command(), "generate", "--out", str(data), "--taxpayers",
                       str(taxpayers), "--requests", str(requests)])
    marker.write_text(json.dumps(figures))
    return data, figures


def master_file(data: Path) -> dict[str, int]:
    """The size and time of the generated master file: a store loaded from another file (the
    population is generated again when a larger request file is asked for, and its TINs
    depend on the request plan) is not reused."""
    stat = (data / "master.parquet").stat()
    return {"bytes": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def reusable(kept: Path, source: dict[str, int]) -> dict[str, Any] | None:
    """The figures of an earlier load (kept in `kept`) when it loaded the file `source`
    describes, else None."""
    if not kept.is_file():
        return None
    earlier = dict(json.loads(kept.read_text()))
    return earlier if earlier.get("master_file") == source else None


def load(work: Path, data: Path, taxpayers: int, *, reuse: bool = False
         ) -> tuple[Path, dict[str, Any]]:
    """`matchgate master load` measured; with `reuse`, a store loaded by an earlier run from
    the same master file (its figures kept beside it, in <store>.load.json) is used as it
    is."""
    store = work / f"master-{taxpayers}.duckdb"
    kept = store.with_name(store.name + ".load.json")
    source = master_file(data)
    earlier = reusable(kept, source) if reuse and store.is_file() else None
    if earlier is not None:
        return store, {**earlier, "reused": True}
    report = store.with_name(store.name + ".report.json")
    figures = measure([*matchgate_command(), "master", "load", str(data / "master.parquet"),
                       "--store", str(store), "--report-json", str(report)])
    if report.is_file():
        figures["stages"] = json.loads(report.read_text())["stage_seconds"]
    import duckdb

    with duckdb.connect(str(store), read_only=True) as con:
        figures["history_rows"] = con.sql("SELECT history_rows FROM store_meta").fetchall()[0][0]
    figures["master_file"] = source
    kept.write_text(json.dumps(figures))
    return store, figures


def prepare_home(home: Path) -> None:
    """A fresh operational store with the example agreement in force."""
    shutil.rmtree(home, ignore_errors=True)
    code = ("from pathlib import Path; import matchgate.gate; "
            "from matchgate.service import Services; from matchgate.settings import Settings; "
            "from matchgate.examples import example_path; "
            f"Services.open(Settings(home=Path({str(home)!r})))"
            ".load_agreement(example_path('agreement.toml'))")
    subprocess.run([sys.executable, "-c", code], check=True)


def stage_seconds(home: Path) -> dict[str, float]:
    with sqlite3.connect(home / "matchgate.sqlite") as con:
        row = con.execute("SELECT details FROM audit_events WHERE event_type = "
                          "'batch.completed' ORDER BY seq DESC LIMIT 1").fetchone()
    details = json.loads(row[0]) if row else {}
    return dict(details.get("seconds", {}))


def verify(work: Path, data: Path, store: Path, batch: int, engine: str = DEFAULT_ENGINE
           ) -> tuple[dict[str, Any], Path]:
    requests = data / f"requests-{batch}.csv"
    if not requests.exists():
        head_csv(data / "requests.csv", requests, batch)
    home = work / "home"
    prepare_home(home)
    # the load just wrote gigabytes (the store, its key index): written out now, so that the
    # kernel's writeback of them does not share the cores with the timed batch
    os.sync()
    before = yardstick()
    figures = measure([*matchgate_command(), "verify", str(requests), "-m",
                       str(data / "manifest.toml"), "-o", str(home / "responses.csv"),
                       "--home", str(home)], env={"MATCHGATE_MATCH_STORE": str(store),
                                                  "MATCHGATE_ENGINE": engine})
    figures["stages"] = stage_seconds(home)
    # the machine's speed around the run (bench/yardstick.py): these machines drift by a
    # quarter within an hour, and a run on a slow stretch is read as such
    figures["yardstick"] = {"before": before, "after": yardstick()}
    return figures, requests


def baseline(data: Path, requests: Path, timeout: float) -> dict[str, Any]:
    """The plain Splink run (bench/accuracy/baseline.py) on the master file and the requests."""
    code = ("import sys; from pathlib import Path; "
            "from bench.accuracy.baseline import run_baseline; "
            "r = run_baseline(Path(sys.argv[1]), Path(sys.argv[2]), None, seed=2025); "
            "print(len(r.best), 'requests with a candidate')")
    env = {"PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "src"),
                                          os.environ.get("PYTHONPATH", "")])}
    return measure([sys.executable, "-c", code, str(data / "master.parquet"), str(requests)],
                   env=env, timeout=timeout)


def ratio(figures: dict[str, Any], base: dict[str, Any] | None) -> float | None:
    """verify's wall time over the baseline's; None without a finished baseline."""
    if not base or not base.get("finished"):
        return None
    return round(figures["seconds"] / base["seconds"], 3)


def read_results(path: Path) -> dict[str, Any]:
    if path.exists():
        return dict(json.loads(path.read_text()))
    return {"runs": []}


def engine_of(run: dict[str, Any]) -> str:
    """The engine a run matched with (runs from before the --engine option: the default)."""
    return str(run.get("engine", DEFAULT_ENGINE))


def merge(results: dict[str, Any], run: dict[str, Any]) -> None:
    """The run replaces an earlier one of the same sizes and engine."""
    def key(r: dict[str, Any]) -> tuple[int, int, str]:
        return (r["taxpayers"], r["batch"], engine_of(r))

    results["runs"] = [r for r in results["runs"] if key(r) != key(run)]
    results["runs"].append(run)
    results["runs"].sort(key=lambda r: (r["taxpayers"], r["batch"],
                                        engine_of(r) != DEFAULT_ENGINE, engine_of(r)))


def machine() -> dict[str, Any]:
    return {"cpus": os.cpu_count(), "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
            "python": platform.python_version(), "platform": platform.platform(),
            "psutil": psutil.__version__}


def plot(results: dict[str, Any], out: Path) -> None:
    import altair as alt
    import vl_convert

    rows = []
    for r in results["runs"]:
        if engine_of(r) != DEFAULT_ENGINE:  # the curve is the default engine's
            continue
        rows.append({"taxpayers": r["taxpayers"], "series": f"verify {r['batch']:,} requests",
                     "seconds": r["verify"]["seconds"]})
    for size, load_figures in {r["taxpayers"]: r["load"] for r in results["runs"]}.items():
        rows.append({"taxpayers": size, "series": "master load", "seconds":
                     load_figures["seconds"]})
    chart = alt.Chart(alt.Data(values=rows)).mark_line(point=True).encode(
        x=alt.X("taxpayers:Q", title="taxpayers in the master file"),
        y=alt.Y("seconds:Q", title="wall seconds (2 cores)"),
        color=alt.Color("series:N", title=None),
    ).properties(title="matchgate: time against master size", width=520, height=320)
    chart.save(str(out.with_suffix(".html")), inline=True)
    out.with_suffix(".png").write_bytes(vl_convert.vegalite_to_png(chart.to_dict(), scale=2))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--masters", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--batches", type=int, nargs="+", default=[100_000])
    parser.add_argument("--work", type=Path, default=Path("/tmp/matchgate-bench"))
    parser.add_argument("--out", type=Path, default=RESULTS / "scale.json")
    parser.add_argument("--reuse-stores", action="store_true",
                        help="use a master store loaded by an earlier run in --work as it is "
                             "(its load figures are the earlier run's)")
    parser.add_argument("--engine", choices=["indexed", "duckdb", "spark"],
                        default=DEFAULT_ENGINE,
                        help="the match engine verify uses (MATCHGATE_ENGINE); runs of another "
                             "engine than the default are kept beside its runs, not plotted")
    parser.add_argument("--no-baseline", action="store_true",
                        help="skip the plain Splink baseline")
    parser.add_argument("--baseline-timeout", type=float, default=BASELINE_TIMEOUT,
                        help="stop the baseline after this many seconds (recorded as not "
                             "finished)")
    parser.add_argument("--baseline-until", type=float, default=None,
                        help="stop the baseline at this Unix time at the latest (a run that "
                             "must end by a deadline)")
    args = parser.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    results = read_results(args.out)
    results["machine"] = machine()
    results.pop("splink_reference_seconds", None)
    for taxpayers in args.masters:
        data, gen = generate(args.work, taxpayers, max(args.batches))
        store, loaded = load(args.work, data, taxpayers, reuse=args.reuse_stores)
        for batch in args.batches:
            figures, requests = verify(args.work, data, store, batch, args.engine)
            timeout = args.baseline_timeout
            if args.baseline_until is not None:
                timeout = max(60.0, min(timeout, args.baseline_until - time.time()))
            base = None if args.no_baseline else baseline(data, requests, timeout)
            run = {"taxpayers": taxpayers, "batch": batch, "engine": args.engine,
                   "generate": gen, "load": loaded,
                   "verify": figures, "block_key_cap": BLOCK_KEY_CAP,
                   "splink_baseline": base,
                   "verify_ratio_to_splink": ratio(figures, base)}
            print(json.dumps(run), flush=True)
            merge(results, run)
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(json.dumps(results, indent=2) + "\n")
        shutil.rmtree(args.work / "home", ignore_errors=True)
    plot(results, args.out.with_suffix(".png"))


if __name__ == "__main__":
    main()
