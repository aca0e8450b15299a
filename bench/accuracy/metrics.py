"""Precision, recall and the not-NO_MATCH share of one system's answers, overall and per
segment, plus the precision-recall curve over a threshold on the match probability."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

Truth = Mapping[str, Mapping[str, str | None]]


@dataclass(frozen=True)
class Answer:
    """What a system said about one valid request."""

    request_id: str
    disclosed: bool
    matched_tin: str | None
    no_match: bool
    probability: float | None = None


def figures(answers: list[Answer], truth: Truth,
            member: Callable[[str, Answer], bool] | None = None) -> dict[str, float | int]:
    """Figures over the answers whose request (or, for disclosures, whose named taxpayer)
    passes `member`; all answers when member is None."""
    disclosures = correct = in_master = found = not_no_match = 0
    for a in answers:
        t = truth[a.request_id]
        true_tin = t.get("true_tin") or None
        in_segment = member is None or member("request", a)
        named = member is None or in_segment or (a.disclosed and member("disclosed", a))
        right = a.disclosed and t.get("category") == "in_master" and a.matched_tin == true_tin
        if a.disclosed and named:
            disclosures += 1
            correct += right
        if t.get("category") == "in_master" and in_segment:
            in_master += 1
            found += right
            not_no_match += not a.no_match
    return {
        "disclosures": disclosures, "wrong_disclosures": disclosures - correct,
        "precision": correct / disclosures if disclosures else 1.0,
        "in_master": in_master, "recall": found / in_master if in_master else 1.0,
        "not_no_match": not_no_match / in_master if in_master else 1.0,
    }


def pr_curve(scored: list[tuple[float, bool, bool]], in_master: int,
             thresholds: list[float]) -> list[dict[str, float]]:
    """scored: (probability, disclosed-if-above, correct) per request; one point per threshold."""
    points = []
    for th in thresholds:
        above = [c for p, d, c in scored if d and p >= th]
        right = sum(above)
        points.append({"threshold": th,
                       "precision": right / len(above) if above else 1.0,
                       "recall": right / in_master if in_master else 1.0})
    return points
