"""The model's blocking rules as key columns, and the master rows they can reach.

Every blocking rule of the shipped model is a conjunction of equalities between the same column
on both sides (`l."std_zip5" = r."std_zip5" AND ...`), optionally narrowed by filter terms that
treat both sides alike (`(l.std_dob IS NULL OR r.std_dob IS NULL)`, `substr(l.std_dob, 1, 4) =
substr(r.std_dob, 1, 4)`). A master row can only be paired with a request when, for some rule,
all its key columns equal the request's (SQL equality: a null key never pairs) and its filters
hold. Selecting those master rows first, with hash semi-joins, gives Splink a master side of
thousands of rows instead of tens of millions, and exactly the same pairs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import sqlglot
from sqlglot import expressions as exp

_SIDE = re.compile(r'\b([lr])\."?(\w+)"?')


@dataclass(frozen=True)
class Rule:
    """One blocking rule: its key columns (same-column equalities) and its filter terms (SQL
    over l. and r., applied to the pairs the keys give)."""

    keys: tuple[str, ...]
    filters: tuple[str, ...] = ()


def parse_rule(rule: str) -> Rule | None:
    """A rule made of same-column equalities, and possibly filter terms; None when it has no
    same-column equality (then no prefilter is safe)."""
    try:
        tree = sqlglot.parse_one(rule, read="duckdb")
    except sqlglot.errors.ParseError:
        return None
    keys: list[str] = []
    filters: list[str] = []
    for term in _conjuncts(tree):
        key = _same_column(term)
        if key is not None:
            keys.append(key)
        else:
            filters.append(term.sql(dialect="duckdb"))
    return Rule(tuple(keys), tuple(filters)) if keys else None


def _conjuncts(tree: exp.Expr) -> list[exp.Expr]:
    tree = tree.unnest()
    if isinstance(tree, exp.And):
        return [*_conjuncts(tree.left), *_conjuncts(tree.right)]
    return [tree]


def _same_column(term: exp.Expr) -> str | None:
    """The column of `l.<column> = r.<column>`, None for any other term."""
    if not isinstance(term, exp.EQ):
        return None
    left, right = term.left.unnest(), term.right.unnest()
    if not (isinstance(left, exp.Column) and isinstance(right, exp.Column)):
        return None
    if {left.table, right.table} != {"l", "r"} or left.name != right.name:
        return None
    return str(left.name)


def rule_keys(rule: str) -> tuple[str, ...] | None:
    """The key columns of a rule; None when it has none."""
    parsed = parse_rule(rule)
    return parsed.keys if parsed is not None else None


def _rules_of(model: dict[str, Any]) -> list[str]:
    return [entry["blocking_rule"] if isinstance(entry, dict) else str(entry)
            for entry in model.get("blocking_rules_to_generate_predictions", [])]


def blocking_rules(model: dict[str, Any]) -> list[Rule] | None:
    """The model's rules parsed; None when a rule has no key column."""
    out = []
    for rule in _rules_of(model):
        parsed = parse_rule(rule)
        if parsed is None:
            return None
        out.append(parsed)
    return out or None


def blocking_keys(model: dict[str, Any]) -> list[tuple[str, ...]] | None:
    """Key columns per blocking rule of the model (a superset of what the rules reach: the
    filters only narrow); None when a rule has no key column (then no prefilter is safe)."""
    rules = blocking_rules(model)
    return [r.keys for r in rules] if rules is not None else None


def sided(sql: str, left: str, right: str) -> str:
    """A rule's SQL with l.<col> and r.<col> rewritten by the templates `left` and `right`
    ('{}' stands for the column: 'h.{}', '{}_l')."""
    return _SIDE.sub(lambda m: (left if m.group(1) == "l" else right).format(m.group(2)), sql)


def reachable_where(keys: list[tuple[str, ...]], master: str, requests: str) -> str:
    """A WHERE condition on `master` that keeps the rows some request shares a rule's keys with
    (a superset of what the rules reach: their filters are left to the join, where they cost
    less than in the semi-join)."""
    clauses = []
    for rule in dict.fromkeys(keys):
        equal = " AND ".join(f"r.{k} = {master}.{k}" for k in rule)
        clauses.append(f"EXISTS (SELECT 1 FROM {requests} r WHERE {equal})")
    return " OR ".join(clauses)


def blocking_predicate(model: dict[str, Any], left: str, right: str) -> str:
    """Whether a pair is reached by some rule of the model, as SQL with the columns named by the
    templates (see `sided`)."""
    return " OR ".join(f"({sided(rule, left, right)})" for rule in _rules_of(model))
