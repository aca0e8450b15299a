"""How fast this machine is right now: a fixed piece of matchgate's own kind of work, timed.

The build machines drift: the same 400,000-request batch took 135 s in one run and 194 s in
another an hour later, every process using some 25% more CPU for the same work in the slower
one. A benchmark that records this yardstick next to its figures (before and after the timed
run) says which runs were made on a slow stretch, and a change can be judged by its figure over
the yardstick's as well as by its figure.

Three parts, each one core's CPU seconds in a fresh process:
- `python`: street lines parsed (usaddress, uncached) and duplicate keys made, as the
  screening does, for a fixed set of made-up requests;
- `numpy`: a stable sort of 10 million fixed 64-bit keys, as the key index does;
- `duckdb`: Jaro-Winkler and Damerau-Levenshtein over 1 million fixed pairs on one thread, as
  the scoring query does.

    PYTHONPATH=src:. .venv/bin/python -m bench.yardstick
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

STREETS = ("Main St", "Oak Avenue", "N 5th Street", "Martin Luther King Jr Blvd",
           "Old Mill Rd Apt 4", "Sunset Boulevard Unit 12B", "W Elm Ct", "Lakeview Dr")
NAMES = ("MARIA", "JOSE", "ANH", "OLUWASEUN", "KATHERINE", "LI", "MOHAMMED", "SARAH")
SURNAMES = ("GARCIA", "NGUYEN", "SMITH", "OKAFOR", "O'BRIEN", "MARTINEZ-LOPEZ", "CHEN", "KIM")
LINES = 8000
ROOT = Path(__file__).resolve().parents[1]


def _python() -> float:
    from matchgate.gate.batch import dedupe_key
    from matchgate.standardize.street_line import _parse

    rng = np.random.default_rng(18)
    houses = rng.integers(1, 20000, size=LINES)
    picks = rng.integers(0, len(STREETS), size=(LINES, 3))
    started = time.process_time()
    for n in range(LINES):
        street = f"{houses[n]} {STREETS[picks[n, 0]]} {n % 97}".upper()
        _parse(street, False)  # the line differs every time: never cached
        dedupe_key({"first_name": NAMES[picks[n, 1]], "last_name": SURNAMES[picks[n, 2]],
                    "date_of_birth": f"19{50 + n % 50}-0{1 + n % 9}-1{n % 10}",
                    "street": street, "city": "SPRINGFIELD", "state": "IL", "zip": "62701"})
    return time.process_time() - started


def _numpy() -> float:
    keys = np.random.default_rng(18).integers(0, 2**63, size=10_000_000, dtype=np.uint64)
    started = time.process_time()
    np.argsort(keys, kind="stable")
    return time.process_time() - started


def _duckdb() -> float:
    import duckdb

    con = duckdb.connect(config={"threads": 1})
    con.execute("CREATE TABLE p AS SELECT 'SURNAME' || (i % 9973) AS a, "
                "'SURNAME' || (i % 9967) AS b FROM range(1000000) t(i)")
    started = time.process_time()
    con.execute("SELECT sum(jaro_winkler_similarity(a, b)), sum(damerau_levenshtein(a, b)) "
                "FROM p").fetchall()
    return time.process_time() - started


def measure() -> dict[str, float]:
    """The three parts' CPU seconds, in this process."""
    return {"python": round(_python(), 3), "numpy": round(_numpy(), 3),
            "duckdb": round(_duckdb(), 3)}


def yardstick() -> dict[str, Any]:
    """The parts' CPU seconds measured in a fresh process (nothing cached from the caller)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(ROOT), str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    out = subprocess.run([sys.executable, "-m", "bench.yardstick"], check=True, cwd=ROOT,
                         env=env, capture_output=True, text=True)
    return dict(json.loads(out.stdout))


if __name__ == "__main__":
    print(json.dumps(measure()))
