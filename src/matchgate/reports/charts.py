"""The report's charts: Altair specs rendered to inline SVG by vl-convert (no script, no CDN)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import altair as alt
import vl_convert

WIDTH = 560
CODE_COLORS = {"VERIFIED": "#2e7d32", "ADDRESS_DIFFERS": "#558b2f", "NO_MATCH": "#78909c",
               "AMBIGUOUS": "#f9a825", "PENDING_REVIEW": "#ffb300", "DENIED": "#c62828"}
REJECTED_COLOR = "#b71c1c"


def svg(chart: alt.TopLevelMixin) -> str:
    """The chart as an SVG element to place in the page as is."""
    text: str = vl_convert.vegalite_to_svg(chart.to_dict())
    return text


def codes_chart(counts: dict[str, int]) -> str:
    values = [{"code": c, "requests": n, "color": CODE_COLORS.get(c, REJECTED_COLOR)}
              for c, n in counts.items()]
    chart = alt.Chart(alt.Data(values=values)).mark_bar().encode(
        x=alt.X("requests:Q", title="requests"),
        y=alt.Y("code:N", sort=list(counts), title=None),
        color=alt.Color("color:N", scale=None),
        tooltip=["code:N", "requests:Q"],
    ).properties(width=WIDTH, height=24 * max(len(values), 1))
    return svg(chart + chart.mark_text(align="left", dx=3).encode(text="requests:Q",
                                                                  color=alt.value("black")))


def reasons_chart(reasons: Sequence[tuple[str, str, int, str]]) -> str:
    values = [{"reason": r, "requests": n} for r, _, n, _ in reasons]
    chart = alt.Chart(alt.Data(values=values)).mark_bar(color=REJECTED_COLOR).encode(
        x=alt.X("requests:Q"), y=alt.Y("reason:N", sort="-x", title=None),
    ).properties(width=WIDTH, height=22 * max(len(values), 1))
    return svg(chart + chart.mark_text(align="left", dx=3).encode(text="requests:Q",
                                                                  color=alt.value("black")))


def scores_chart(scores: Sequence[float], thresholds: dict[str, float]) -> str:
    values: list[dict[str, Any]] = [{"p": s} for s in scores]
    bars = alt.Chart(alt.Data(values=values)).mark_bar(color="#455a64").encode(
        x=alt.X("p:Q", bin=alt.Bin(extent=[0, 1], step=0.025),
                title="match probability of the best candidate"),
        y=alt.Y("count():Q", title="requests", scale=alt.Scale(type="symlog")),
    )
    rules = alt.Chart(alt.Data(values=[{"t": v, "name": k} for k, v in thresholds.items()])
                      ).mark_rule(color="#c62828", strokeDash=[4, 3]).encode(x="t:Q")
    labels = rules.mark_text(align="left", dx=3, dy=-4, color="#c62828").encode(
        text="name:N", y=alt.value(0))
    return svg((bars + rules + labels).properties(width=WIDTH, height=220))


def officials_chart(rows: Sequence[dict[str, Any]]) -> str:
    values = [{"official": r["official"], "most in one period": r["largest"],
               "limit": r["limit"] or 0} for r in rows]
    base = alt.Chart(alt.Data(values=values))
    bars = base.mark_bar(color="#1565c0").encode(
        x=alt.X("most in one period:Q",
                title="requests answered in the official's busiest period (tick: the limit)"),
        y=alt.Y("official:N", title=None))
    ticks = base.mark_tick(color="#c62828", thickness=3, size=20).encode(
        x="limit:Q", y="official:N")
    return svg((bars + ticks).properties(width=WIDTH, height=26 * max(len(values), 1)))
