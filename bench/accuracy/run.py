"""The accuracy benchmark: `python -m bench.accuracy.run [--taxpayers N --requests N]`.

Generates the data (seeded), runs matchgate through its service layer (as `matchgate demo`
does) and the plain Splink baseline on the same valid requests, and writes
bench/results/accuracy.json (overall and per segment, blocking recall, every wrong disclosure
with the reason) and the precision-recall plot bench/results/accuracy-pr.png.
"""

from __future__ import annotations

import argparse
import csv
import json
import platform
import shutil
import time
from pathlib import Path
from typing import Any

import duckdb

from bench.accuracy.baseline import THRESHOLD, run_baseline
from bench.accuracy.blocking import blocking_recall
from bench.accuracy.metrics import Answer, figures, pr_curve
from bench.accuracy.plot import write_pr_plot
from bench.accuracy.pseudopeople_population import Inputs, build_inputs
from bench.accuracy.replay import frontier
from bench.accuracy.segments import SEGMENTS, request_in_segment, segment_tins
from matchgate.codes import DISCLOSING_CODES, Code
from matchgate.examples import example_path
from matchgate.master.generate import GenerateReport, generate
from matchgate.master.load import load_master
from matchgate.match.engine import load_model
from matchgate.match.train import DEFAULT_MODEL_PATH, read_requests_file
from matchgate.service import Services
from matchgate.settings import Settings

RESULTS = Path(__file__).resolve().parents[1] / "results"
VALID = ("in_master", "not_in_master")


def _args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--taxpayers", type=int, default=100_000)
    p.add_argument("--requests", type=int, default=10_000)
    p.add_argument("--seed", type=int, default=2025)
    p.add_argument("--work", type=Path, default=Path("/tmp/matchgate-bench-accuracy"),
                   help="folder for the generated data and stores (emptied first)")
    p.add_argument("--out", type=Path, default=RESULTS / "accuracy.json")
    p.add_argument("--plot", type=Path, default=RESULTS / "accuracy-pr.png")
    p.add_argument("--no-baseline", action="store_true", help="skip the Splink baseline")
    p.add_argument("--population", choices=("synthetic", "pseudopeople"), default="synthetic",
                   help="pseudopeople: the outside check on pseudopeople's sample population "
                        "(needs the bench extra); its figures go under "
                        "the 'pseudopeople' key of the results file, the rest is kept")
    return p.parse_args()


def _matchgate(work: Path, report: GenerateReport | Inputs
               ) -> tuple[list[dict[str, Any]], Path, float]:
    settings = Settings(home=work / "store")
    settings.ensure_home()
    load_master(report.master_path, settings.resolved_match_store())
    services = Services.open(settings)
    services.load_agreement(example_path("agreement.toml"))
    start = time.perf_counter()
    result = services.verify_batch(requests_path=report.requests_path,
                                   manifest_path=report.manifest_path,
                                   responses_path=work / "responses.csv", decisions_path=None)
    seconds = time.perf_counter() - start
    return (services.store.decisions_for_batch(batch_id=result.batch_id),
            settings.resolved_match_store(), seconds)


def _evidence(d: dict[str, Any]) -> dict[str, Any]:
    ev = d.get("evidence") or {}
    return json.loads(ev) if isinstance(ev, str) else dict(ev)


def _matchgate_answers(decisions: list[dict[str, Any]],
                       truth: dict[str, dict[str, str]]) -> list[Answer]:
    return [Answer(request_id=str(d["request_id"]),
                   disclosed=Code(d["code"]) in DISCLOSING_CODES,
                   matched_tin=d.get("matched_tin"), no_match=d["code"] == Code.NO_MATCH.value,
                   probability=d.get("match_probability"))
            for d in decisions if truth[str(d["request_id"])]["category"] in VALID]


def _codes(decisions: list[dict[str, Any]], truth: dict[str, dict[str, str]]
           ) -> dict[str, dict[str, int]]:
    """Response codes of the valid requests, by whether their person is in the master file
    (the review volume custodian staff must handle is the PENDING_REVIEW count)."""
    out: dict[str, dict[str, int]] = {c: {} for c in VALID}
    for d in decisions:
        category = truth[str(d["request_id"])]["category"]
        if category in out:
            out[category][d["code"]] = out[category].get(d["code"], 0) + 1
    return {c: dict(sorted(v.items())) for c, v in out.items()}


def _baseline_answers(best: dict[str, tuple[str, float]], ids: list[str]) -> list[Answer]:
    out = []
    for rid in ids:
        tin, prob = best.get(rid, (None, 0.0))
        out.append(Answer(request_id=rid, disclosed=prob >= THRESHOLD, matched_tin=tin,
                          no_match=prob < THRESHOLD, probability=prob))
    return out


def _all_figures(answers: list[Answer], truth: dict[str, dict[str, str]],
                 tins: dict[str, frozenset[str]]) -> dict[str, Any]:
    out: dict[str, Any] = {"all": figures(answers, truth)}
    for seg in SEGMENTS:
        def member(kind: str, a: Answer, seg: str = seg) -> bool:
            if kind == "disclosed":
                return (a.matched_tin or "") in tins[seg]
            return request_in_segment(seg, truth[a.request_id], tins[seg])
        out[seg] = figures(answers, truth, member)
    return out


def _taxpayer(con: duckdb.DuckDBPyConnection, tin: str | None) -> dict[str, Any] | None:
    if not tin:
        return None
    rel = con.sql("SELECT first_name, middle_name, last_name, suffix, date_of_birth, "
                  "last_street, last_unit, last_zip FROM s.taxpayers WHERE tin = ?", params=[tin])
    rows = rel.fetchall()
    return dict(zip(rel.columns, rows[0], strict=True)) if rows else None


def _request_fields(path: Path, ids: set[str]) -> dict[str, dict[str, str]]:
    keep = ("first_name", "middle_name", "last_name", "suffix", "date_of_birth", "tin",
            "street", "unit", "zip")
    with path.open(newline="", encoding="utf-8") as fh:
        return {r["request_id"]: {k: r[k] for k in keep} for r in csv.DictReader(fh)
                if r["request_id"] in ids}


def _reason(t: dict[str, str], evidence: dict[str, Any]) -> str:
    tokens = t["variation"].split(";")
    if t["category"] == "in_master":
        who = "a taxpayer in the master file, matched to another taxpayer"
    else:
        who = f"a person not in the master file ({tokens[0]})"
    levels = evidence.get("gamma", {})
    weights = evidence.get("match_weights", {})
    agreeing = [f"{k} level {levels[k]} ({weights.get(k, 0):+.1f})" for k in levels
                if levels[k] not in (None, -1)]
    return f"request about {who}; variation {t['variation']}; evidence: " + ", ".join(agreeing)


def _wrong(decisions: list[dict[str, Any]], truth: dict[str, dict[str, str]], store: Path,
           requests_path: Path) -> list[dict[str, Any]]:
    wrong = [d for d in decisions if Code(d["code"]) in DISCLOSING_CODES
             and d.get("matched_tin") != (truth[str(d["request_id"])]["true_tin"] or None)]
    fields = _request_fields(requests_path, {str(d["request_id"]) for d in wrong})
    con = duckdb.connect()
    con.sql(f"ATTACH '{store}' AS s (READ_ONLY)")
    try:
        return [{
            "request_id": d["request_id"], "code": d["code"], "reason_code": d["reason"],
            "match_probability": d["match_probability"],
            "request": fields.get(str(d["request_id"])),
            "disclosed_taxpayer": _taxpayer(con, d.get("matched_tin")),
            "true_taxpayer": _taxpayer(con, truth[str(d["request_id"])]["true_tin"] or None),
            "why": _reason(truth[str(d["request_id"])], _evidence(d)),
        } for d in wrong]
    finally:
        con.close()


def _curve(answers: list[Answer], truth: dict[str, dict[str, str]],
           thresholds: list[float]) -> list[dict[str, float]]:
    in_master = sum(truth[a.request_id]["category"] == "in_master" for a in answers)
    scored = [(a.probability or 0.0, a.disclosed,
               a.disclosed and a.matched_tin == (truth[a.request_id]["true_tin"] or None))
              for a in answers]
    return pr_curve(scored, in_master, thresholds)


BY_IDENTIFIERS = "matchgate, min_identifiers 1-3"


def identifier_curve(front: list[dict[str, Any]]) -> list[dict[str, float]]:
    """The frontier's points at the agreement's match threshold, one per min_identifiers (the
    match threshold hardly moves matchgate: its curve over it is nearly a point)."""
    base = front[0]["match_probability"]
    return [{"threshold": f["min_identifiers"], "precision": f["precision"],
             "recall": f["recall"]} for f in front
            if f["initial_with_address"] and f["match_probability"] == base]


def _pseudopeople(args: argparse.Namespace) -> None:
    """matchgate on pseudopeople's sample, merged into the results file under 'pseudopeople'."""
    start = time.perf_counter()
    inputs = build_inputs(args.work / "input", args.seed)
    decisions, store, seconds = _matchgate(args.work, inputs)
    codes = _codes(decisions, inputs.truth)
    for d in decisions:  # the gate refused it (no house number, a garbled date): not valid
        if str(d["code"]).startswith("REJECTED"):
            inputs.truth[str(d["request_id"])]["category"] = "invalid"
    answers = _matchgate_answers(decisions, inputs.truth)
    wrong = _wrong(decisions, inputs.truth, store, inputs.requests_path)
    results = json.loads(args.out.read_text(encoding="utf-8")) if args.out.exists() else {}
    results["pseudopeople"] = {
        "command": "PYTHONPATH=src:. python -m bench.accuracy.run --population pseudopeople",
        "source": "pseudopeople sample data (decennial census requests against a master of "
                  "1040 and W-2/1099 records); rules not tuned to it",
        "data": inputs.counts, "thresholds": "examples/agreement.toml",
        "matchgate": {"seconds": round(seconds, 1), "all": figures(answers, inputs.truth),
                      "codes": codes},
        "wrong_disclosures": wrong,
        "total_seconds": round(time.perf_counter() - start, 1),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, default=str) + "\n", encoding="utf-8")
    f = results["pseudopeople"]["matchgate"]["all"]
    print(f"pseudopeople: precision {f['precision']:.4%} ({f['wrong_disclosures']} wrong of "
          f"{f['disclosures']})  recall {f['recall']:.2%}  not NO_MATCH {f['not_no_match']:.2%}"
          f"  (of {f['in_master']})  codes {results['pseudopeople']['matchgate']['codes']}")


def main() -> None:
    args = _args()
    if args.work.exists():
        shutil.rmtree(args.work)
    if args.population == "pseudopeople":
        _pseudopeople(args)
        return
    start = time.perf_counter()
    report = generate(args.work / "input", taxpayers=args.taxpayers, requests=args.requests,
                      seed=args.seed)
    with report.truth_path.open(newline="", encoding="utf-8") as fh:
        truth = {r["request_id"]: r for r in csv.DictReader(fh)}
    decisions, store, mg_seconds = _matchgate(args.work, report)
    tins = segment_tins(store)
    mg = _matchgate_answers(decisions, truth)
    results: dict[str, Any] = {
        "command": (f"PYTHONPATH=src:. python -m bench.accuracy.run --taxpayers "
                    f"{args.taxpayers} --requests {args.requests} --seed {args.seed}"),
        "data": {"taxpayers": report.taxpayers, "itin_taxpayers": report.itin_taxpayers,
                 "master_rows": report.master_rows, "requests": report.requests,
                 "in_master": report.in_master, "not_in_master": report.not_in_master,
                 "invalid": report.invalid, "seed": args.seed},
        "thresholds": "examples/agreement.toml",
        "machine": platform.platform(),
        "matchgate": {"seconds": round(mg_seconds, 1), **_all_figures(mg, truth, tins),
                      "codes": _codes(decisions, truth)},
        "blocking": blocking_recall(store, read_requests_file(report.requests_path),
                                    load_model(DEFAULT_MODEL_PATH), truth),
    }
    grid = [0.5, 0.8, 0.9, 0.95, 0.99, 0.995, 0.999, 0.9999]
    curves = {"matchgate": _curve(mg, truth, grid)}
    points = {"matchgate": {k: results["matchgate"]["all"][k] for k in ("precision", "recall")}}
    if not args.no_baseline:
        ids = [a.request_id for a in mg]
        base = run_baseline(report.master_path, report.requests_path, ids, seed=args.seed)
        answers = _baseline_answers(base.best, ids)
        results["baseline"] = {"seconds": round(base.seconds, 1), "threshold": THRESHOLD,
                               **_all_figures(answers, truth, tins)}
        curves["baseline"] = _curve([Answer(a.request_id, True, a.matched_tin, False,
                                            a.probability) for a in answers], truth, grid)
        points["baseline"] = {k: results["baseline"]["all"][k] for k in ("precision", "recall")}
    results["wrong_disclosures"] = _wrong(decisions, truth, store, report.requests_path)
    results["frontier"] = frontier(args.work, truth)
    curves[BY_IDENTIFIERS] = identifier_curve(results["frontier"])
    results["pr_curves"] = curves
    results["total_seconds"] = round(time.perf_counter() - start, 1)
    if args.out.exists():  # the outside check's figures stay beside the synthetic ones
        previous = json.loads(args.out.read_text(encoding="utf-8"))
        if "pseudopeople" in previous:
            results["pseudopeople"] = previous["pseudopeople"]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, default=str) + "\n", encoding="utf-8")
    write_pr_plot(curves, points, args.plot)
    _print(results)


def _print(results: dict[str, Any]) -> None:
    for system in ("matchgate", "baseline"):
        if system not in results:
            continue
        for seg, f in results[system].items():
            if isinstance(f, dict) and "precision" in f:
                print(f"{system:9} {seg:17} precision {f['precision']:.4%} "
                      f"({f['wrong_disclosures']} wrong of {f['disclosures']})  recall "
                      f"{f['recall']:.2%}  not NO_MATCH {f['not_no_match']:.2%}  "
                      f"(of {f['in_master']})")
    b = results["blocking"]
    print(f"blocking recall {b['recall']:.3%} ({b['reached_scoring']} of {b['true_pairs']})")
    print(f"matchgate {results['matchgate']['seconds']} s; total {results['total_seconds']} s")


if __name__ == "__main__":
    main()
