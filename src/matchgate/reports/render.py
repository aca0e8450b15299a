"""The oversight report as one self-contained HTML page (Jinja2 template, inline SVG charts)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from matchgate.reports import analysis, charts
from matchgate.reports.facts import ReportData


def _environment() -> Environment:
    return Environment(loader=PackageLoader("matchgate.reports", "templates"),
                       autoescape=select_autoescape(["html", "j2"]), trim_blocks=True,
                       lstrip_blocks=True)


def _thresholds(data: ReportData) -> dict[str, float]:
    out: dict[str, float] = {}
    for agreement in data.agreements.values():
        out["match threshold"] = agreement.thresholds.match_probability
        out["review threshold"] = agreement.thresholds.review_probability
    return out


def context(data: ReportData) -> dict[str, Any]:
    """Everything the template shows."""
    results = analysis.checks(data)
    ok, headline = analysis.headline(data, results)
    codes = analysis.code_counts(data)
    reasons = analysis.reason_counts(data)
    officials = analysis.officials(data)
    scores = analysis.scores(data)
    return {
        "data": data, "ok": ok, "headline": headline, "checks": results,
        "anomalies": analysis.anomalies(data), "codes": codes, "reasons": reasons,
        "officials": officials, "reviews": analysis.reviews(data),
        "total": len(data.decisions), "scores_count": len(scores),
        "agreements": sorted({(a.agreement_id, a.version, a.requesting_agency)
                              for a in data.agreements.values()}),
        "charts": {
            "codes": charts.codes_chart(codes) if codes else "",
            "reasons": charts.reasons_chart(reasons) if reasons else "",
            "scores": charts.scores_chart(scores, _thresholds(data)) if scores else "",
            "officials": charts.officials_chart(officials) if officials else "",
        },
    }


def render_report(data: ReportData) -> str:
    return _environment().get_template("report.html.j2").render(**context(data))


def write_report(data: ReportData, out: Path) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_report(data), encoding="utf-8")
    return out
