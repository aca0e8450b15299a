"""Print the README's tables from the benchmark results: `python -m bench.tables accuracy` (or
`scale`)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from bench.scale.run import DEFAULT_ENGINE, engine_of

RESULTS = Path(__file__).parent / "results"
SEGMENTS = (("all", "all valid requests"), ("itin", "ITIN filers"),
            ("compound_surname", "compound surnames"), ("mover", "movers"),
            ("family", "families (same surname and address)"))


def accuracy_table(data: dict[str, Any]) -> str:
    d = data["data"]
    lines = [
        f"{d['taxpayers']:,} taxpayers ({d['master_rows']:,} master rows), {d['requests']:,} "
        f"requests (seed {d['seed']}), thresholds of `{data['thresholds']}`; blocking recall "
        f"{data['blocking']['recall']:.2%}. Reproduce: `{data['command']}`.",
        "",
        "| segment | matchgate precision | matchgate recall | not NO_MATCH | baseline precision "
        "| baseline recall |",
        "|---|---|---|---|---|---|",
    ]
    for key, label in SEGMENTS:
        m, b = data["matchgate"][key], data["baseline"][key]
        lines.append(
            f"| {label} | {m['precision']:.3%} ({m['wrong_disclosures']} wrong of "
            f"{m['disclosures']:,}) | {m['recall']:.2%} | {m['not_no_match']:.2%} | "
            f"{b['precision']:.2%} ({b['wrong_disclosures']:,} wrong) | {b['recall']:.2%} |")
    codes = data["matchgate"].get("codes")
    if codes:
        review = sum(c.get("PENDING_REVIEW", 0) for c in codes.values())
        valid = sum(sum(c.values()) for c in codes.values())
        lines += ["", f"Custodian review volume: {review:,} of {valid:,} valid requests "
                      f"({review / valid:.1%}) end PENDING_REVIEW."]
    front = data.get("frontier")
    if front:
        lines += ["", "The frontier (the same candidates re-decided at other settings of the "
                      "agreement; the rest as it sets them):", "",
                  "| min_identifiers | initial_with_address | match_probability | precision "
                  "| recall | not NO_MATCH |",
                  "|---|---|---|---|---|---|"]
        lines += [f"| {f['min_identifiers']} | {str(f['initial_with_address']).lower()} | "
                  f"{f['match_probability']} | {f['precision']:.3%} "
                  f"({f['wrong']} wrong of {f['disclosures']:,}) | {f['recall']:.2%} | "
                  f"{f['not_no_match']:.2%} |" for f in front]
    pp = data.get("pseudopeople")
    if pp:
        f, n = pp["matchgate"]["all"], pp["data"]
        lines += ["", f"Outside check, pseudopeople's sample population ({n['taxpayers']:,} "
                      f"taxpayers from 1040 and W-2 records, {n['requests']:,} census records as "
                      f"requests; rules not tuned to it): precision {f['precision']:.3%} "
                      f"({f['wrong_disclosures']} wrong of {f['disclosures']:,}), recall "
                      f"{f['recall']:.2%}, not NO_MATCH {f['not_no_match']:.2%}. Reproduce: "
                      f"`{pp['command']}`."]
    return "\n".join(lines)


def _baseline_cell(base: dict[str, Any] | None) -> str:
    if not base:
        return "not run"
    if not base.get("finished", True):
        peak = base.get("peak_rss_mib")
        held = f", {peak / 1024:.1f} GiB" if peak else ""
        return f"not finished, stopped after {base['seconds']:.0f} s{held}"
    return f"{base['seconds']:.0f} s ({base['peak_rss_mib'] / 1024:.1f} GiB)"


def _peak(figures: dict[str, Any]) -> str:
    if figures.get("peak_private_mib") is not None:
        return (f"{figures['peak_rss_mib'] / 1024:.1f} GiB RSS, "
                f"{figures['peak_private_mib'] / 1024:.1f} GiB private")
    if figures.get("peak_rss_mib") is not None:
        return f"{figures['peak_rss_mib'] / 1024:.1f} GiB"
    sampled = figures.get("rss_sampled_mib")
    return f"peak not recorded, {sampled / 1024:.1f} GiB sampled" if sampled else "peak ?"


def _load(figures: dict[str, Any]) -> str:
    avg = figures.get("load_average")
    return f"{avg['start'][0]:.1f}" if avg else "?"


def _engine(run: dict[str, Any]) -> str:
    """A note after the batch size for a run of another engine than the default (indexed)."""
    engine = engine_of(run)
    return "" if engine == DEFAULT_ENGINE else f" ({engine} engine)"


def _stages(load: dict[str, Any]) -> str:
    """A load's seconds per stage, where it recorded them (loads since session 15)."""
    stages = load.get("stages")
    if not stages:
        return ""
    return " (" + ", ".join(f"{k} {t:.0f}" for k, t in stages.items()) + ")"


def scale_table(data: dict[str, Any]) -> str:
    m = data["machine"]
    lines = [
        f"{m['cpus']} cores, {m['memory_gib']} GiB, Python {m['python']}. Wall time of the whole "
        "command (subprocess), peak memory of its process tree (RSS; and private, less the "
        "memory-mapped index's file pages, where measured); the load average (1 minute) when "
        "verify started, since other work shared the cores. Baseline: plain Splink link_only "
        "(train and predict) on the same files (in the same run unless its note in scale.json "
        "says otherwise).",
        "",
        "| master (taxpayers / rows) | batch | master load | verify | load avg | verify stages "
        "(s) | Splink baseline | ratio |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in data["runs"]:
        v, ld = r["verify"], r["load"]
        stages = ", ".join(f"{k} {t:.0f}" for k, t in sorted(v["stages"].items(),
                                                               key=lambda kv: -kv[1]))
        ratio = r.get("verify_ratio_to_splink")
        lines.append(
            f"| {r['taxpayers']:,} / {ld['history_rows']:,} | {r['batch']:,}{_engine(r)} | "
            f"{ld['seconds']:.0f} s ({ld['peak_rss_mib'] / 1024:.1f} GiB){_stages(ld)} | "
            f"{v['seconds']:.0f} s ({_peak(v)}) | {_load(v)} | "
            f"{stages} | {_baseline_cell(r.get('splink_baseline'))} | "
            f"{'-' if ratio is None else f'{ratio:.2f}'} |")
    return "\n".join(lines)


def main() -> None:
    which = sys.argv[1] if len(sys.argv) > 1 else "accuracy"
    data = json.loads((RESULTS / f"{which}.json").read_text(encoding="utf-8"))
    print({"accuracy": accuracy_table, "scale": scale_table}[which](data))


if __name__ == "__main__":
    main()
