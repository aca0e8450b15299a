"""Why a request was answered as it was: the model's evidence, field by field, for people.

Pure: from one stored decision (a row of the `decisions` table) and the model's Splink settings
JSON it builds an `Explanation`, a plain-text account and a self-contained HTML page whose
waterfall chart (the prior, each field's match weight, the total) is inline SVG rendered by
vl-convert: the page loads no script and nothing from the network.

Gamma levels follow Splink's numbering (as match.scoring does): the null level is -1, the other
levels count down from the top in the model's order, so the last (ELSE) level is 0.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

from matchgate.codes import REASONS, REJECTION_CODES, Code

DUPLICATE_OR_REJECTED = frozenset({*REJECTION_CODES, Code.DUPLICATE})


def load_model() -> dict[str, Any]:
    """The trained model shipped with matchgate (match/model.json)."""
    text = resources.files("matchgate.match").joinpath("model.json").read_text("utf-8")
    model: dict[str, Any] = json.loads(text)
    return model


def level_labels(model: Mapping[str, Any]) -> dict[str, dict[int, str]]:
    """Per comparison, gamma level -> the level's chart label."""
    out: dict[str, dict[int, str]] = {}
    for comparison in model["comparisons"]:
        levels = comparison["comparison_levels"]
        gamma = sum(1 for lv in levels if not lv.get("is_null_level")) - 1
        labels: dict[int, str] = {}
        for lv in levels:
            label = str(lv.get("label_for_charts") or lv.get("sql_condition", ""))
            if lv.get("is_null_level"):
                labels[-1] = label
                continue
            labels[gamma] = label
            gamma -= 1
        out[comparison["output_column_name"]] = labels
    return out


def weight_of(probability: float) -> float:
    """log2 of the odds."""
    return math.log2(probability / (1.0 - probability))


def probability_of(weight: float) -> float:
    odds = 2.0 ** weight
    return odds / (1.0 + odds)


@dataclass(frozen=True)
class FieldWeight:
    comparison: str
    gamma: int | None
    label: str
    weight: float

    @property
    def name(self) -> str:
        return self.comparison.replace("_", " ")


@dataclass(frozen=True)
class Explanation:
    batch_id: str
    request_id: str
    code: str
    reason: str | None
    detail: str | None
    prior: float
    fields: tuple[FieldWeight, ...]
    stored_probability: float | None

    @property
    def matched(self) -> bool:
        return bool(self.fields)

    @property
    def prior_weight(self) -> float:
        return weight_of(self.prior)

    @property
    def total_weight(self) -> float:
        return self.prior_weight + sum(f.weight for f in self.fields)

    @property
    def probability(self) -> float:
        return probability_of(self.total_weight)

    @property
    def rejected(self) -> bool:
        return self.code in DUPLICATE_OR_REJECTED


def _lower_first(label: str) -> str:
    if len(label) > 1 and label[1].isupper():
        return label
    return label[:1].lower() + label[1:]


def explain_decision(decision: Mapping[str, Any], model: Mapping[str, Any]) -> Explanation:
    """The explanation of one stored decision under the model (labels, prior)."""
    evidence = decision.get("evidence") or {}
    if isinstance(evidence, str):
        evidence = json.loads(evidence)
    weights: Mapping[str, float] = evidence.get("match_weights") or {}
    gammas: Mapping[str, int] = evidence.get("gamma") or {}
    labels = level_labels(model)
    fields = []
    if weights:
        for comparison, by_gamma in labels.items():
            gamma = gammas.get(comparison)
            label = by_gamma.get(gamma, f"level {gamma}") if gamma is not None else "not recorded"
            fields.append(FieldWeight(comparison, gamma, _lower_first(label),
                                      float(weights.get(comparison) or 0.0)))
    return Explanation(
        batch_id=str(decision["batch_id"]), request_id=str(decision["request_id"]),
        code=str(decision["code"]), reason=decision.get("reason"),
        detail=evidence.get("detail"), prior=float(model["probability_two_random_records_match"]),
        fields=tuple(fields), stored_probability=decision.get("match_probability"))


def reason_sentence(reason: str | None) -> str:
    if not reason:
        return "no reason recorded"
    return REASONS[reason][1] if reason in REASONS else reason


def account_lines(ex: Explanation) -> list[str]:
    """The plain-text account, one line per field."""
    lines = [f"request {ex.request_id} of batch {ex.batch_id}",
             f"decision: {ex.code}" + (f" ({ex.reason}: {reason_sentence(ex.reason)})"
                                       if ex.reason else "")]
    if ex.rejected:
        lines.append("rejected before matching: nothing was looked up in the master file")
        if ex.detail:
            lines.append(f"detail: {ex.detail}")
        return lines
    if not ex.matched:
        lines.append("no candidate taxpayer was found in the master file: "
                     "there is no evidence to weigh")
        if ex.detail:
            lines.append(f"detail: {ex.detail}")
        return lines
    lines.append(f"prior (two random records match): {ex.prior:.3g}, {ex.prior_weight:+.1f}")
    lines.extend(f"{f.name}: {f.label}, {f.weight:+.1f}" for f in ex.fields)
    lines.append(f"total match weight: {ex.total_weight:+.1f}")
    lines.append(f"match probability: {ex.probability:.6f}")
    if ex.stored_probability is not None:
        lines.append(f"match probability recorded with the decision: "
                     f"{ex.stored_probability:.6f}")
    return lines


def waterfall_rows(ex: Explanation) -> list[dict[str, Any]]:
    """Bars from the prior through each field's weight to the total."""
    rows: list[dict[str, Any]] = [{"order": 0, "step": "prior", "start": 0.0,
                                   "end": ex.prior_weight, "kind": "prior",
                                   "weight": ex.prior_weight, "level": "prior"}]
    running = ex.prior_weight
    for i, f in enumerate(ex.fields, start=1):
        rows.append({"order": i, "step": f.name, "start": running, "end": running + f.weight,
                     "kind": "for" if f.weight >= 0 else "against", "weight": f.weight,
                     "level": f.label})
        running += f.weight
    rows.append({"order": len(rows), "step": "total", "start": 0.0, "end": running,
                 "kind": "total", "weight": running, "level": "total"})
    for row in rows:
        row["weight_text"] = f"{row['weight']:+.1f}"
    return rows


def chart_spec(ex: Explanation) -> dict[str, Any]:
    """The waterfall as a Vega-Lite spec (built with Altair)."""
    import altair as alt

    rows = waterfall_rows(ex)
    x = alt.X("step:N", sort=[r["step"] for r in rows], title=None,
              axis=alt.Axis(labelAngle=-30))
    base = alt.Chart(alt.Data(values=rows))
    bars = base.mark_bar().encode(
        x=x, y=alt.Y("start:Q", title="match weight (log2 odds)"), y2="end:Q",
        color=alt.Color("kind:N", scale=alt.Scale(
            domain=["prior", "for", "against", "total"],
            range=["#7f7f7f", "#2ca02c", "#d62728", "#1f77b4"]), title=None),
        tooltip=["step:N", "level:N", "weight_text:N"])
    text = base.mark_text(dy=-6).encode(x=x, y="end:Q", text="weight_text:N")
    chart = (bars + text).properties(
        width=520, height=300, title=f"Request {ex.request_id}: from the prior to the total")
    spec: dict[str, Any] = chart.to_dict()
    return spec


def chart_svg(ex: Explanation) -> str:
    import vl_convert

    svg: str = vl_convert.vegalite_to_svg(chart_spec(ex))
    return svg


def html_page(ex: Explanation) -> str:
    """A self-contained page: the chart (inline SVG, when there is evidence), the account and
    the decision. No script, no stylesheet or image from elsewhere."""
    e = html.escape
    chart = chart_svg(ex) if ex.matched and not ex.rejected else ""
    account = "\n".join(e(line) for line in account_lines(ex))
    decision = "".join(
        f"<tr><th>{e(k)}</th><td>{e(str(v))}</td></tr>" for k, v in (
            ("batch", ex.batch_id), ("request", ex.request_id), ("code", ex.code),
            ("reason", ex.reason or ""), ("explanation", reason_sentence(ex.reason)),
            ("detail", ex.detail or "")))
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>matchgate: request {e(ex.request_id)}</title>"
        "<style>body{font-family:sans-serif;margin:2em}th{text-align:left;padding-right:1em}"
        "pre{background:#f4f4f4;padding:1em}</style></head><body>"
        f"<h1>Request {e(ex.request_id)}</h1>"
        f"<h2>Decision</h2><table>{decision}</table>"
        f"<h2>Evidence</h2>{chart}<pre>{account}</pre>"
        "</body></html>\n")
