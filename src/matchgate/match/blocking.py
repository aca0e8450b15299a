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


def reachable_where(keys: list[tuple[str, ...]], master: str, requests: str, *,
                    flags: list[str] | None = None,
                    sets: list[tuple[str, ...]] | None = None) -> str:
    """A WHERE condition on `master` that keeps the rows some request shares a rule's keys with
    (a superset of what the rules reach: their filters are left to the join, where they cost
    less than in the semi-join). With `flags` (one per tuple of `sets`, see rare_flag), only the
    requests whose key value is rare count for that tuple."""
    clauses = []
    for rule in dict.fromkeys(keys):
        equal = " AND ".join(f"r.{k} = {master}.{k}" for k in rule)
        if flags is not None and sets is not None:
            equal = f"r.{flags[sets.index(rule)]} AND {equal}"
        clauses.append(f"EXISTS (SELECT 1 FROM {requests} r WHERE {equal})")
    return " OR ".join(clauses)


def blocking_predicate(model: dict[str, Any], left: str, right: str) -> str:
    """Whether a pair is reached by some rule of the model, as SQL with the columns named by the
    templates (see `sided`)."""
    return " OR ".join(f"({sided(rule, left, right)})" for rule in _rules_of(model))


# -- frequent keys ---------------------------------------------------------------------------
# A rule's key value shared by more master history rows than this is not used by that rule: in
# a master of tens of millions, "last initial and first name" or "ZIP and house number" of a
# large building pair a request with hundreds of rows, and the pairs grow with the master. The
# request is still paired by the model's other rules (date of birth, TIN, address, surname), and
# both the bulk engines and the fast path leave out exactly the same pairs. 1,000, not 200: at
# 10M taxpayers a cap of 200 cut blocking recall to 98.66% (below the 99.5% floor of the
# accuracy issue), 1,000 keeps 99.47%, the uncapped figure at 1M (README, "Performance").
BLOCK_KEY_CAP = 1000
RARE_FLAG = "mg_rare_{}"


def key_sets(keys: list[tuple[str, ...]]) -> list[tuple[str, ...]]:
    """The distinct key tuples of the rules, in order of first use."""
    return list(dict.fromkeys(keys))


def rare_flag(keys: tuple[str, ...], sets: list[tuple[str, ...]]) -> str:
    """The column saying, per request, that its value of `keys` is not frequent."""
    return RARE_FLAG.format(sets.index(keys))


def frequent_keys_sql(keys: list[tuple[str, ...]], table: str, cap: int) -> str:
    """One scan of `table` giving, per distinct key tuple (grouping set `g`, its index in
    key_sets), the key values held by more than `cap` rows (rows with a null key column left
    out: they never pair)."""
    sets = key_sets(keys)
    parts = []
    for n, rule in enumerate(sets):
        present = " AND ".join(f"{k} IS NOT NULL" for k in rule)
        parts.append(f"SELECT {n} AS g, {', '.join(rule)} FROM {table} WHERE {present} "
                     f"GROUP BY {', '.join(rule)} HAVING count(*) > {int(cap)}")
    columns = sorted({k for rule in sets for k in rule})
    return " UNION ALL BY NAME ".join(parts) + (
        f" ORDER BY g, {', '.join(columns)}" if columns else "")


def flag_sql(keys: list[tuple[str, ...]], requests: str, frequent: str) -> str:
    """`requests` with one boolean column per distinct key tuple (rare_flag): true when the
    request's key value is not among the `frequent` rows of that tuple (frequent_keys_sql)."""
    sets = key_sets(keys)
    flags = []
    for n, rule in enumerate(sets):
        equal = " AND ".join(f"f.{k} = q.{k}" for k in rule)
        flags.append(f"NOT EXISTS (SELECT 1 FROM {frequent} f WHERE f.g = {n} AND {equal}) "
                     f"AS {RARE_FLAG.format(n)}")
    return f"SELECT q.*, {', '.join(flags)} FROM {requests} q"


def capped_model(model: dict[str, Any], keys: list[tuple[str, ...]]) -> dict[str, Any]:
    """The model with each blocking rule narrowed to the pairs whose key value is rare on both
    sides (the master side carries constant true flags: a pair has one key value)."""
    sets = key_sets(keys)
    rules = []
    for entry, rule_keys in zip(model.get("blocking_rules_to_generate_predictions", []), keys,
                                strict=True):
        flag = rare_flag(rule_keys, sets)
        sql = entry["blocking_rule"] if isinstance(entry, dict) else str(entry)
        narrowed = f"({sql}) AND l.{flag} AND r.{flag}"
        rules.append({**entry, "blocking_rule": narrowed} if isinstance(entry, dict)
                     else narrowed)
    return {**model, "blocking_rules_to_generate_predictions": rules}


def flag_columns(keys: list[tuple[str, ...]]) -> list[str]:
    return [RARE_FLAG.format(n) for n in range(len(key_sets(keys)))]


def reached_by(model: dict[str, Any], capped: set[int], left: str, right: str) -> str:
    """blocking_predicate over the rules not in `capped` (indices of the model's rules);
    FALSE when every rule is capped."""
    rules = [r for n, r in enumerate(_rules_of(model)) if n not in capped]
    return " OR ".join(f"({sided(rule, left, right)})" for rule in rules) or "FALSE"
