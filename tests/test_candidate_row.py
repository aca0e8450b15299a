"""candidate_from_row reads the decision facts from a candidate row's gamma levels."""

from __future__ import annotations

import json
from typing import Any

from matchgate.pipeline import candidate_from_row


def row(**gamma: int | None) -> dict[str, Any]:
    levels = {"first_name": 7, "last_name": 4, "middle_name": -1, "suffix": -1, "dob": -1,
              "address": 4, "unit": -1, "tin": -1, **gamma}
    return {"tin": "123456789", "match_probability": 0.999, "match_weight": 20.0,
            "address_is_last_known": True,
            "evidence": json.dumps({"match_weights": {}, "gamma": levels})}


def test_middle_name_agreement_from_its_level() -> None:
    assert candidate_from_row(row(middle_name=3)).middle_agrees is True
    assert candidate_from_row(row(middle_name=3)).middle_full is True
    assert candidate_from_row(row(middle_name=2)).middle_full is False
    assert candidate_from_row(row(middle_name=2)).middle_agrees is True
    assert candidate_from_row(row(middle_name=None)).middle_agrees is None
    assert candidate_from_row(row()).middle_agrees is None
    for level in (1, 0):  # full middle names that differ with one initial; initials differ
        differs = candidate_from_row(row(middle_name=level))
        assert differs.middle_agrees is False and "middle_name" in differs.conflicts


def test_corroborating_fields_from_their_levels() -> None:
    assert candidate_from_row(row()).corroborated_by == {"address"}
    assert candidate_from_row(row(address=2, dob=6, tin=2)).corroborated_by == {"dob", "tin"}


def test_a_heaped_birth_date_from_its_weight() -> None:
    def with_dob(weight: float) -> dict[str, Any]:
        r = row(dob=6)
        r["evidence"] = json.dumps({"match_weights": {"dob": weight},
                                    "gamma": json.loads(r["evidence"])["gamma"]})
        return r
    assert candidate_from_row(with_dob(6.4)).dob_heaped is True  # one record in 80
    assert candidate_from_row(with_dob(14.6)).dob_heaped is False  # an ordinary date
    assert "dob" in candidate_from_row(with_dob(6.4)).corroborated_by
    assert candidate_from_row(row()).name_weight == 0.0
