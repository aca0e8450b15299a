"""The precision-recall plot (PNG) of matchgate and the baseline."""

from __future__ import annotations

from pathlib import Path

import altair as alt
import vl_convert


def write_pr_plot(curves: dict[str, list[dict[str, float]]],
                  points: dict[str, dict[str, float]], path: Path) -> None:
    """curves: system -> points over thresholds; points: system -> its operating point."""
    rows = [{"system": s, **p} for s, pts in curves.items() for p in pts]
    ops = [{"system": s, **p} for s, p in points.items()]
    scale = alt.Scale(zero=False)
    line = alt.Chart(alt.Data(values=rows)).mark_line(point=True).encode(
        x=alt.X("recall:Q", scale=scale), y=alt.Y("precision:Q", scale=scale),
        color="system:N", tooltip=["system:N", "threshold:Q", "precision:Q", "recall:Q"])
    dots = alt.Chart(alt.Data(values=ops)).mark_point(size=160, shape="diamond",
                                                      filled=True).encode(
        x="recall:Q", y="precision:Q", color="system:N")
    chart = (line + dots).properties(
        width=520, height=360,
        title="Precision and recall of disclosures (diamonds: default thresholds)")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(vl_convert.vegalite_to_png(chart.to_dict(), scale=2))
