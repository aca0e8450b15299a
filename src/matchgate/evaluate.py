"""Precision and recall of disclosures against the generator's ground truth."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from matchgate.codes import DISCLOSING_CODES, REJECTION_CODES, Code


@dataclass(frozen=True)
class Accuracy:
    disclosures: int
    correct_disclosures: int
    in_master: int
    in_master_disclosed_correctly: int
    in_master_not_no_match: int
    not_in_master: int
    not_in_master_disclosed: int
    invalid: int
    invalid_rejected: int
    valid_rejected: int

    @property
    def precision(self) -> float:
        return self.correct_disclosures / self.disclosures if self.disclosures else 1.0

    @property
    def recall(self) -> float:
        return self.in_master_disclosed_correctly / self.in_master if self.in_master else 1.0

    @property
    def not_no_match_rate(self) -> float:
        return self.in_master_not_no_match / self.in_master if self.in_master else 1.0

    @property
    def invalid_rejected_rate(self) -> float:
        return self.invalid_rejected / self.invalid if self.invalid else 1.0


def evaluate(decisions: Iterable[Mapping[str, object]],
             truth: Mapping[str, Mapping[str, str | None]]) -> Accuracy:
    """decisions: rows with request_id, code, matched_tin; truth: request_id -> TRUTH row.

    Precision counts every disclosure (VERIFIED or ADDRESS_DIFFERS) whose taxpayer is the right
    one. Recall is over valid requests whose person is in the master file.
    """
    counts = dict.fromkeys(Accuracy.__dataclass_fields__, 0)
    for d in decisions:
        rid = str(d["request_id"])
        t = truth.get(rid)
        if t is None:
            continue
        code = Code(str(d["code"]))
        category = t.get("category")
        true_tin = t.get("true_tin") or None
        disclosed = code in DISCLOSING_CODES
        correct = disclosed and category == "in_master" and d.get("matched_tin") == true_tin
        counts["disclosures"] += disclosed
        counts["correct_disclosures"] += correct
        if category == "in_master":
            counts["in_master"] += 1
            counts["in_master_disclosed_correctly"] += correct
            counts["in_master_not_no_match"] += code not in (Code.NO_MATCH,)
            counts["valid_rejected"] += code in REJECTION_CODES and code != Code.DUPLICATE
        elif category == "not_in_master":
            counts["not_in_master"] += 1
            counts["not_in_master_disclosed"] += disclosed
            counts["valid_rejected"] += code in REJECTION_CODES and code != Code.DUPLICATE
        elif category == "invalid":
            counts["invalid"] += 1
            counts["invalid_rejected"] += code in REJECTION_CODES
    return Accuracy(**counts)
