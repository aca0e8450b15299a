"""What a review changes in the answer: pure functions over a decision and its review."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from matchgate.codes import Code
from matchgate.respond import disclosed_fields

OUTCOMES = ("approved", "denied")


def released_answer(outcome: str, *, address_is_last_known: bool,
                    last_address: Mapping[str, object] | None,
                    disclosable: Sequence[str]) -> dict[str, Any]:
    """The answer a reviewed request receives: approved -> VERIFIED (the request's address is
    the last known) or ADDRESS_DIFFERS (with the last known address where the agreement allows
    it); denied -> DENIED, disclosing nothing."""
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown review outcome {outcome!r}")
    if outcome == "denied":
        return {"code": Code.DENIED.value, "reason": "review_denied", "disclosed": {}}
    if address_is_last_known:
        return {"code": Code.VERIFIED.value, "reason": "review_approved", "disclosed": {}}
    code = Code.ADDRESS_DIFFERS
    return {"code": code.value, "reason": "review_approved_address_differs",
            "disclosed": disclosed_fields(code, last_address, disclosable)}


def answer_rows(decisions: Sequence[Mapping[str, Any]],
                reviews: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The decisions as released: a reviewed request carries its review's answer; one still
    in review stays PENDING_REVIEW. The decisions themselves are never changed."""
    out = []
    for d in decisions:
        row = dict(d)
        review = reviews.get(str(d["request_id"]))
        if review is not None and review.get("released"):
            row.update(review["released"])
            row["decided_by"] = review["reviewer"]
        out.append(row)
    return out
