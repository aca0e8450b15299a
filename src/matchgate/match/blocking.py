"""The model's blocking rules as key columns, and the master rows they can reach.

Every blocking rule of the shipped model is a conjunction of equalities between the same column
on both sides (`l."std_zip5" = r."std_zip5" AND ...`). A master row can only be paired with a
request when, for some rule, all its key columns equal the request's (SQL equality: a null key
never pairs). Selecting those master rows first, with hash semi-joins, gives Splink a master
side of thousands of rows instead of tens of millions, and exactly the same pairs.
"""

from __future__ import annotations

import re
from typing import Any

_EQUALITY = re.compile(r'\(?\s*l\."?(\w+)"?\s*=\s*r\."?(\w+)"?\s*\)?')
_AND = re.compile(r"\s+AND\s+", re.IGNORECASE)


def rule_keys(rule: str) -> tuple[str, ...] | None:
    """The key columns of a rule made only of same-column equalities; None otherwise."""
    keys = []
    for term in _AND.split(rule.strip()):
        match = _EQUALITY.fullmatch(term.strip())
        if match is None or match.group(1) != match.group(2):
            return None
        keys.append(match.group(1))
    return tuple(keys)


def blocking_keys(model: dict[str, Any]) -> list[tuple[str, ...]] | None:
    """Key columns per blocking rule of the model; None when a rule is not plain equalities
    (then no prefilter is safe)."""
    out = []
    for entry in model.get("blocking_rules_to_generate_predictions", []):
        rule = entry["blocking_rule"] if isinstance(entry, dict) else str(entry)
        keys = rule_keys(rule)
        if keys is None:
            return None
        out.append(keys)
    return out or None


def reachable_where(keys: list[tuple[str, ...]], master: str, requests: str) -> str:
    """A WHERE condition on `master` that keeps the rows some request blocks with."""
    clauses = []
    for rule in keys:
        equal = " AND ".join(f"r.{k} = {master}.{k}" for k in rule)
        clauses.append(f"EXISTS (SELECT 1 FROM {requests} r WHERE {equal})")
    return " OR ".join(clauses)
