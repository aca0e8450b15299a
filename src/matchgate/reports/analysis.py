"""What the oversight report concludes: the checks of lawfulness and accuracy, the tables, and
the anomalies worth a human look. Pure functions over ReportData."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from matchgate.codes import DISCLOSING_CODES, REASONS, REJECTION_CODES, Code
from matchgate.reports.facts import ReportData

DISCLOSING = {c.value for c in DISCLOSING_CODES}
REJECTING = {c.value for c in REJECTION_CODES}
#: a batch's rate is unusual when it is this far from the median of the other batches, at least
MIN_RATE_GAP = 0.10
#: ... and at least this many median absolute deviations away
MAD_FACTOR = 4.0
#: the fewest other batches that make a baseline
MIN_BASELINE = 3
#: the period of an official's limit when no agreement says (the agreement's default)
DEFAULT_PERIOD_DAYS = 30
#: one official holding more than this share of the requests, with at least 3 officials
OFFICIAL_SHARE = 0.5


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


@dataclass(frozen=True)
class Anomaly:
    title: str
    detail: str


def _key(d: dict[str, Any]) -> tuple[str, str]:
    return d["batch_id"], d["request_id"]


def _share(n: int, total: int) -> str:
    return f"{n:,} of {total:,} ({n / total:.1%})" if total else "0"


def check_gated(data: ReportData) -> Check:
    ungated = [_key(d) for d in data.decisions if _key(d) not in data.gated]
    detail = (f"all {len(data.decisions):,} requests went through the legal and address gate "
              "before anything was looked up" if not ungated else
              f"{len(ungated):,} decided request(s) have no gate record, e.g. "
              f"{ungated[0][1]} in {ungated[0][0]}")
    return Check("Every request gated", not ungated, detail)


def _released_by_review(data: ReportData) -> set[tuple[str, str]]:
    """Requests a reviewer approved: their released answer discloses."""
    return {k for k, r in data.reviews.items()
            if r.get("outcome") == "approved" and (r.get("released") or {}).get("code")
            in DISCLOSING}


def check_accounted(data: ReportData) -> Check:
    disclosing = ({_key(d) for d in data.decisions if d["code"] in DISCLOSING}
                  | _released_by_review(data))
    missing = (disclosing | data.disclosure_events) - set(data.accounted)
    detail = (f"{len(disclosing):,} disclosure(s), each with its accounting record "
              "(6103(p)(3))" if not missing else
              f"{len(missing):,} disclosure(s) without an accounting record, e.g. "
              f"{sorted(missing)[0][1]}")
    return Check("No disclosure without accounting", not missing, detail)


def check_thresholds(data: ReportData) -> Check:
    below = []
    for d in data.decisions:
        batch = next(b for b in data.batches if b["batch_id"] == d["batch_id"])
        agreement = data.agreements.get((batch["agreement_id"], batch["agreement_version"]))
        if d["code"] not in DISCLOSING or agreement is None or d["decided_by"] != "matchgate":
            continue
        if (d["match_probability"] or 0.0) < agreement.thresholds.match_probability:
            below.append(d["request_id"])
    n = sum(d["code"] in DISCLOSING and d["decided_by"] == "matchgate" for d in data.decisions)
    detail = (f"all {n:,} automatic disclosures met the agreement's match threshold"
              if not below else f"{len(below):,} automatic disclosure(s) below the threshold, "
              f"e.g. {below[0]}")
    return Check("Disclosures only above the match threshold", not below, detail)


def check_limits(data: ReportData) -> Check:
    over = [o for o in officials(data) if o["over_limit"]]
    detail = ("no official's answered requests exceed the agreement's limit per period"
              if not over else f"{len(over)} official(s) over the agreement's limit: "
              + ", ".join(o["official"] for o in over))
    return Check("Within the agreement's limits", not over, detail)


def check_chain(data: ReportData) -> Check:
    return Check("Audit chain verifies", data.chain.ok, data.chain.summary())


def check_checkpoints(data: ReportData) -> Check:
    if data.log is None:
        return Check("Signed checkpoints verify", False,
                     "not checked: no public key was given")
    if data.log.ok:
        detail = "; ".join(data.log.checked[1:]) or "verified"
        return Check("Signed checkpoints verify", True, detail)
    return Check("Signed checkpoints verify", False, "; ".join(data.log.failures[:3]))


def checks(data: ReportData) -> list[Check]:
    return [check_gated(data), check_accounted(data), check_thresholds(data),
            check_limits(data), check_chain(data), check_checkpoints(data)]


def code_counts(data: ReportData) -> dict[str, int]:
    counts = Counter(d["code"] for d in data.decisions)
    return {c.value: counts[c.value] for c in Code if counts[c.value]}


def reason_counts(data: ReportData) -> list[tuple[str, str, int, str]]:
    """(reason, code, requests, meaning) of the rejections, most frequent first."""
    counts = Counter(d["reason"] for d in data.decisions
                     if d["code"] in REJECTING and d["reason"])
    return [(r, REASONS[r][0].value if r in REASONS else "", n,
             REASONS[r][1] if r in REASONS else "")
            for r, n in counts.most_common()]


def scores(data: ReportData) -> list[float]:
    return [float(d["match_probability"]) for d in data.decisions
            if d["match_probability"] is not None]


def reviews(data: ReportData) -> dict[str, str]:
    """Review outcomes and turnaround: from the machine's PENDING_REVIEW decision to the
    reviewer's decision."""
    in_band = [d for d in data.decisions if d["code"] == Code.PENDING_REVIEW.value]
    decided = [(d, data.reviews[_key(d)]) for d in in_band
               if data.reviews.get(_key(d), {}).get("outcome")]
    outcomes = Counter(r["outcome"] for _, r in decided)
    hours = sorted((r["decided_at"] - d["decided_at"]).total_seconds() / 3600
                   for d, r in decided if r.get("decided_at") and d.get("decided_at"))
    out = {"sent to review": f"{len(in_band):,}",
           "still waiting": f"{len(in_band) - len(decided):,}",
           **{f"reviewer: {o}": f"{n:,}" for o, n in sorted(outcomes.items())}}
    if hours:
        out["turnaround, median"] = f"{statistics.median(hours):.1f} h"
        out["turnaround, longest"] = f"{hours[-1]:.1f} h"
    return out


def _peak(batches: list[tuple[Any, int]], days: int) -> int:
    """The most requests within any `days`-day window ending at one of the batches."""
    peak = 0
    for end, _ in batches:
        peak = max(peak, sum(n for t, n in batches if end - timedelta(days=days) < t <= end))
    return peak


def officials(data: ReportData) -> list[dict[str, Any]]:
    """Requests per certifying official against the agreement's limit, which counts the
    requests one official certifies within limits.official_period_days. Requests the gate
    rejected for the limit (REJECTED_LIMIT) are not counted: they were not answered."""
    answered = Counter(d["batch_id"] for d in data.decisions
                       if d["code"] != Code.REJECTED_LIMIT.value)
    by_official: dict[str, list[tuple[Any, int]]] = defaultdict(list)
    limits: dict[str, tuple[int, int]] = {}
    for b in data.batches:
        name = b["submitted_by"] or "(none named)"
        by_official[name].append((b["created_at"], answered.get(b["batch_id"], 0)))
        agreement = data.agreements.get((b["agreement_id"], b["agreement_version"]))
        if agreement is not None:
            terms = (agreement.limits.max_requests_per_official,
                     agreement.limits.official_period_days)
            limits[name] = min(limits.get(name, terms), terms)
    total = sum(n for rows in by_official.values() for _, n in rows) or 1
    out = []
    for name, rows in by_official.items():
        limit: int | None = None
        days = DEFAULT_PERIOD_DAYS
        if name in limits:
            limit, days = limits[name]
        peak = _peak(sorted(rows, key=lambda r: r[0]), days)
        requests = sum(n for _, n in rows)
        out.append({"official": name, "batches": len(rows), "requests": requests,
                    "share": requests / total, "largest": peak, "limit": limit,
                    "period_days": days, "over_limit": limit is not None and peak > limit})
    return sorted(out, key=lambda r: -r["requests"])


def _rates(codes: Counter[str]) -> tuple[float, float]:
    total = sum(codes.values()) or 1
    rejected = sum(n for c, n in codes.items() if c in REJECTING)
    return rejected / total, codes.get(Code.REJECTED_ADDRESS.value, 0) / total


def _unusual(value: float, baseline: list[float]) -> bool:
    median = statistics.median(baseline)
    mad = statistics.median(abs(x - median) for x in baseline)
    return abs(value - median) > max(MIN_RATE_GAP, MAD_FACTOR * mad)


def rate_anomalies(data: ReportData) -> list[Anomaly]:
    scoped = {b["batch_id"] for b in data.batches}
    others = [_rates(c) for b, c in data.history.items() if b not in scoped]
    if len(others) < MIN_BASELINE:
        return []
    out = []
    for batch_id in sorted(scoped):
        rejected, address = _rates(data.history.get(batch_id, Counter()))
        for label, value, base in (("rejection rate", rejected, [o[0] for o in others]),
                                   ("address rejection rate", address, [o[1] for o in others])):
            if _unusual(value, base):
                out.append(Anomaly(f"Unusual {label} in {batch_id}",
                                   f"{value:.1%} against a median of "
                                   f"{statistics.median(base):.1%} over {len(base)} other "
                                   "batches"))
    return out


def official_anomalies(data: ReportData) -> list[Anomaly]:
    rows = officials(data)
    out = [Anomaly(f"{o['official']} over the agreement's limit",
                   f"{o['largest']:,} requests answered within {o['period_days']} days, limit "
                   f"{o['limit']:,}")
           for o in rows if o["over_limit"]]
    if len(rows) >= 3 and rows[0]["share"] > OFFICIAL_SHARE:
        out.append(Anomaly(f"{rows[0]['official']} out of proportion",
                           f"{rows[0]['share']:.0%} of all requests among {len(rows)} "
                           "officials"))
    return out


def repeated_people(data: ReportData) -> list[tuple[str, int]]:
    """People asked about more than once in scope: (reference, requests), most first. A person
    is the same dedupe key (identity fields) or the same matched TIN (shown as last four);
    requests the gate already rejected as DUPLICATE are not counted."""
    duplicates = {_key(d) for d in data.decisions if d["code"] == Code.DUPLICATE.value}
    by_key = Counter(k for ref, k in data.dedupe_keys.items() if k and ref not in duplicates)
    by_tin = Counter(d["matched_tin"] for d in data.decisions if d["matched_tin"])
    repeated = [(f"identity key {k[:10]}", n) for k, n in by_key.items() if n > 1]
    repeated += [(f"TIN ending {t[-4:]}", n) for t, n in by_tin.items() if n > 1]
    return sorted(repeated, key=lambda x: -x[1])


def anomalies(data: ReportData) -> list[Anomaly]:
    out = rate_anomalies(data) + official_anomalies(data)
    repeated = repeated_people(data)
    if repeated:
        top = ", ".join(f"{ref} ({n}x)" for ref, n in repeated[:5])
        out.append(Anomaly(f"{len(repeated)} person(s) asked about more than once",
                           f"{top} (beyond the repeats the gate rejected as DUPLICATE)"))
    if data.incidents:
        out.append(Anomaly(f"{len(data.incidents)} suspected improper disclosure(s) flagged",
                           ", ".join(i["incident_id"] for i in data.incidents[:5])))
    return out


def headline(data: ReportData, results: list[Check]) -> tuple[bool, str]:
    ok = all(c.ok for c in results)
    total = len(data.decisions)
    disclosed = sum(d["code"] in DISCLOSING for d in data.decisions)
    rejected = sum(d["code"] in REJECTING for d in data.decisions)
    verdict = "LAWFUL AND ACCURATE" if ok else "NEEDS ATTENTION"
    return ok, (f"{verdict}: {total:,} requests; disclosed {_share(disclosed, total)}; "
                f"rejected at the gate {_share(rejected, total)}")
