"""Replay the decisions of an accuracy run without the service: `python -m bench.accuracy.replay
--work DIR [--min-identifiers N ...]`.

For iterating on decision rules: the candidates of the valid requests of a finished run (its
--work folder) are found once with the engine and cached next to it (per model file); every
replay then re-decides them with matchgate.decide and prints the figures, every wrong
disclosure and the true matches that were not disclosed, by reason.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from matchgate.agreement import load_agreement
from matchgate.columns import REQUEST_COLUMNS, STD_COLUMNS
from matchgate.decide import Candidate, Decision, RequestFacts, Thresholds, decide, disclosing
from matchgate.examples import example_path
from matchgate.match.engine import DuckDBMatchEngine
from matchgate.match.train import DEFAULT_MODEL_PATH
from matchgate.pipeline import candidate_from_row, thresholds_of, with_parsed_evidence
from matchgate.standardize import standardize_table

VALID = ("in_master", "not_in_master")


def _truth(work: Path) -> dict[str, dict[str, str]]:
    with (work / "input" / "truth.csv").open(newline="", encoding="utf-8") as fh:
        return {r["request_id"]: r for r in csv.DictReader(fh)}


def _requests(work: Path, truth: dict[str, dict[str, str]]) -> pa.Table:
    path = work / "input" / "requests.csv"
    opts = pacsv.ConvertOptions(column_types={c: pa.string() for c in REQUEST_COLUMNS},
                                strings_can_be_null=True)
    table = pacsv.read_csv(path, convert_options=opts)
    keep = pa.array([truth[r]["category"] in VALID
                     for r in table.column("request_id").to_pylist()])
    return table.filter(keep)


def load(work: Path, model_path: Path = DEFAULT_MODEL_PATH
         ) -> tuple[pa.Table, pa.Table, dict[str, dict[str, str]]]:
    """(standardized valid requests, their candidates, truth), the first two cached."""
    truth = _truth(work)
    digest = hashlib.sha256(model_path.read_bytes()).hexdigest()[:12]
    std_path, cand_path = work / "replay-std.parquet", work / f"replay-cand-{digest}.parquet"
    if std_path.exists():
        std = pq.read_table(std_path)
    else:
        std = standardize_table(_requests(work, truth))
        pq.write_table(std, std_path)
    if cand_path.exists():
        found = pq.read_table(cand_path)
    else:
        engine = DuckDBMatchEngine(work / "store" / "master.duckdb", model_path)
        found = engine.find_candidates(std.select(["request_id", *STD_COLUMNS]))
        pq.write_table(found, cand_path)
    return std, found, truth


def candidates_by_request(found: pa.Table) -> dict[str, list[Candidate]]:
    out: dict[str, list[Candidate]] = {}
    for row in with_parsed_evidence(found).to_pylist():
        out.setdefault(row["request_id"], []).append(candidate_from_row(row))
    return out


def facts_of(std: pa.Table) -> list[RequestFacts]:
    cols = ["request_id", "std_first_canon", "std_suffix", "std_dob"]
    return [RequestFacts(**rec) for rec in std.select(cols).to_pylist()]


def replay(facts: Sequence[RequestFacts], candidates: dict[str, list[Candidate]],
           thresholds: Thresholds) -> list[Decision]:
    return [decide(f, candidates.get(f.request_id, []), thresholds) for f in facts]


def summary(decisions: Sequence[Decision], truth: dict[str, dict[str, str]]) -> dict[str, Any]:
    disclosed = wrong = in_master = found = not_no_match = 0
    missed: Counter[str] = Counter()
    wrong_ids: list[str] = []
    for d in decisions:
        t = truth[d.request_id]
        is_in = t["category"] == "in_master"
        right = disclosing(d.code) and is_in and d.matched_tin == t["true_tin"]
        if disclosing(d.code):
            disclosed += 1
            if not right:
                wrong += 1
                wrong_ids.append(d.request_id)
        if is_in:
            in_master += 1
            found += right
            not_no_match += d.code.value != "NO_MATCH"
            if not right:
                missed[d.reason] += 1
    return {"disclosures": disclosed, "wrong": wrong,
            "precision": 1 - wrong / disclosed if disclosed else 1.0,
            "recall": found / in_master, "not_no_match": not_no_match / in_master,
            "missed": dict(missed.most_common()), "wrong_ids": wrong_ids}


def _settings(base: Thresholds) -> list[Thresholds]:
    """The agreement's thresholds, with min_identifiers 1-3 (at 2, the middle initial beside the
    address counted or not: at 1 and 3 it makes no difference), then other match thresholds."""
    out = [replace(base, min_identifiers=k, initial_with_address=i)
           for k in (1, 2, 3) for i in ((True, False) if k == 2 else (True,))]
    out += [replace(base, match_probability=p) for p in (0.9, 0.999, 0.9999)
            if p != base.match_probability]
    return out


def frontier(work: Path, truth: dict[str, dict[str, str]]) -> list[dict[str, Any]]:
    """Precision and recall of the run's candidates re-decided at other settings of the example
    agreement (the rest as the agreement sets them)."""
    std, found, _ = load(work)
    facts, candidates = facts_of(std), candidates_by_request(found)
    out = []
    for t in _settings(thresholds_of(load_agreement(example_path("agreement.toml")))):
        s = summary(replay(facts, candidates, t), truth)
        out.append({"min_identifiers": t.min_identifiers,
                    "initial_with_address": t.initial_with_address,
                    "match_probability": t.match_probability,
                    **{key: s[key] for key in ("disclosures", "wrong", "precision",
                                               "recall", "not_no_match")}})
    return out


def _args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--work", type=Path, required=True, help="the --work folder of a run")
    p.add_argument("--model", type=Path, default=DEFAULT_MODEL_PATH)
    p.add_argument("--min-identifiers", type=int)
    p.add_argument("--match-probability", type=float)
    p.add_argument("--initial-with-address", choices=("true", "false"))
    p.add_argument("--show", type=int, default=40, help="wrong disclosures to print")
    return p.parse_args()


def main() -> None:
    args = _args()
    std, found, truth = load(args.work, args.model)
    thresholds = thresholds_of(load_agreement(example_path("agreement.toml")))
    if args.min_identifiers is not None:
        thresholds = replace(thresholds, min_identifiers=args.min_identifiers)
    if args.match_probability is not None:
        thresholds = replace(thresholds, match_probability=args.match_probability)
    if args.initial_with_address is not None:
        thresholds = replace(thresholds, initial_with_address=args.initial_with_address == "true")
    decisions = replay(facts_of(std), candidates_by_request(found), thresholds)
    s = summary(decisions, truth)
    print(f"precision {s['precision']:.4%} ({s['wrong']} wrong of {s['disclosures']})  recall "
          f"{s['recall']:.2%}  not NO_MATCH {s['not_no_match']:.2%}")
    print("true matches not disclosed, by reason:", s["missed"])
    by_id = {d.request_id: d for d in decisions}
    for rid in s["wrong_ids"][:args.show]:
        d = by_id[rid]
        print(rid, d.code.value, d.reason, truth[rid]["category"], truth[rid]["variation"],
              d.best.evidence.get("gamma") if d.best else None)


if __name__ == "__main__":
    main()
