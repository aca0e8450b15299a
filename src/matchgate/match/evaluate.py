"""Precision and recall of the engine on a generated sample (truth.csv), for measurement only.

    python -m matchgate.match.evaluate DIR [--model FILE] [--threshold 0.99]

DIR holds what `matchgate generate` writes; the master store is built in DIR/store.duckdb when
missing. Only the best candidate of each request counts: a request is predicted when its best
candidate reaches the threshold, and correct when that candidate is the true taxpayer.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from matchgate.master.load import load_master
from matchgate.match.engine import DuckDBMatchEngine
from matchgate.match.train import DEFAULT_MODEL_PATH, read_requests_file


@dataclass(frozen=True)
class Evaluation:
    threshold: float
    in_master: int
    predicted: int            # requests whose best candidate reaches the threshold
    predicted_valid: int      # the same, leaving out requests the gate would reject
    correct: int              # in_master requests whose best candidate is the true taxpayer
    seconds: float

    @property
    def precision(self) -> float:
        return self.correct / self.predicted if self.predicted else 1.0

    @property
    def precision_valid(self) -> float:
        return self.correct / self.predicted_valid if self.predicted_valid else 1.0

    @property
    def recall(self) -> float:
        return self.correct / self.in_master if self.in_master else 1.0


def _score(candidates: pa.Table, truth: Path, threshold: float) -> tuple[int, int, int, int]:
    con = duckdb.connect()
    con.register("c", candidates)
    sql = f"""
    WITH best AS (SELECT request_id, tin, match_probability FROM c QUALIFY row_number()
                  OVER (PARTITION BY request_id ORDER BY match_probability DESC, tin) = 1),
    t AS (SELECT * FROM read_csv('{truth}', all_varchar = true))
    SELECT count(*) FILTER (t.category = 'in_master'),
           count(*) FILTER (b.match_probability >= {threshold}),
           count(*) FILTER (b.match_probability >= {threshold} AND t.category <> 'invalid'),
           count(*) FILTER (b.match_probability >= {threshold} AND t.category = 'in_master'
                            AND b.tin = t.true_tin)
    FROM t LEFT JOIN best b USING (request_id)"""
    row = con.sql(sql).fetchall()[0]
    con.close()
    return int(row[0]), int(row[1]), int(row[2]), int(row[3])


def evaluate(sample: Path, model: Path = DEFAULT_MODEL_PATH, *,
             threshold: float = 0.99) -> Evaluation:
    store = sample / "store.duckdb"
    if not store.exists():
        load_master(sample / "master.parquet", store)
    requests = read_requests_file(sample / "requests.csv")
    started = time.monotonic()
    candidates = DuckDBMatchEngine(store, model).find_candidates(requests)
    seconds = time.monotonic() - started
    in_master, predicted, valid, correct = _score(candidates, sample / "truth.csv", threshold)
    return Evaluation(threshold, in_master, predicted, valid, correct, round(seconds, 2))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sample", type=Path)
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL_PATH)
    parser.add_argument("--threshold", type=float, default=0.99)
    args = parser.parse_args()
    e = evaluate(args.sample, args.model, threshold=args.threshold)
    print(f"threshold {e.threshold}: precision {e.precision:.4f} ({e.correct}/{e.predicted}), "
          f"precision on valid requests {e.precision_valid:.4f} "
          f"({e.correct}/{e.predicted_valid}), recall {e.recall:.4f} "
          f"({e.correct}/{e.in_master}); find_candidates {e.seconds} s")


if __name__ == "__main__":
    main()
