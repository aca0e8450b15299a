"""The request beside each candidate the match considered: pure functions over a decision's
stored evidence and the candidates' records from the master store."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

#: candidate fields set beside the request's, for the side-by-side view
COMPARED = (("first_name", "first_name"), ("middle_name", "middle_name"),
            ("last_name", "last_name"), ("suffix", "suffix"), ("date_of_birth", "date_of_birth"),
            ("street", "last_street"), ("unit", "last_unit"), ("city", "last_city"),
            ("state", "last_state"), ("zip", "last_zip"))
MAX_CANDIDATES = 5


def norm(value: object) -> str:
    return " ".join(str(value or "").upper().split())


def considered(matched_tin: str | None, match_probability: float | None,
               evidence: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The candidates a decision considered, best first: the stored list, or (for decisions
    recorded before it was kept) the matched candidate alone with the best one's evidence."""
    stored = evidence.get("candidates")
    if isinstance(stored, list) and stored:
        return [dict(c) for c in stored[:MAX_CANDIDATES]]
    if not matched_tin:
        return []
    return [{"tin": matched_tin, "match_probability": match_probability, "match_weight": None,
             "match_weights": evidence.get("match_weights", {}),
             "gamma": evidence.get("gamma", {})}]


def field_pairs(request: Mapping[str, Any],
                record: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """Field by field, the request's value, the candidate's, and whether they differ."""
    return [{"field": mine, "request": request.get(mine),
             "candidate": None if record is None else _text(record.get(theirs)),
             "differs": record is not None and norm(request.get(mine)) != norm(record.get(theirs))}
            for mine, theirs in COMPARED]


def evidence_rows(weights: Mapping[str, Any], gammas: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [{"comparison": k, "match_weight": weights[k], "gamma": gammas.get(k)}
            for k in weights]


def candidate_views(request: Mapping[str, Any], candidates: Sequence[Mapping[str, Any]],
                    records: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Each candidate (best first) beside the request: rank, the TIN's last four digits, scores,
    fields with differences marked, and the per-field evidence."""
    return [{"rank": rank, "tin_last4": str(c["tin"])[-4:],
             "match_probability": c.get("match_probability"),
             "match_weight": c.get("match_weight"),
             "fields": field_pairs(request, records.get(str(c["tin"]))),
             "evidence": evidence_rows(c.get("match_weights") or {}, c.get("gamma") or {})}
            for rank, c in enumerate(candidates, start=1)]


def _text(value: object) -> str | None:
    return None if value is None else str(value)
