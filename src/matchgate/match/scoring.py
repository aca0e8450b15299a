"""Scoring pairs with a saved Splink model, outside Splink (the indexed engine, indexed.py).

The gamma level of each comparison is computed by the model's own SQL conditions, in order, in
DuckDB (so a change of the model's comparisons changes this scorer too); the match weight is
Splink's: the prior's weight plus, per comparison, log2(m/u) of its level and, on a level with
term-frequency adjustment, weight * (log2(u of the exact level) - log2(max(tf_l, tf_r, min u))).

A function of one side only (`EPOCH(try_strptime(std_dob_l, ...))`, `substr(std_dob_r, 1, 4)`)
is the same for every pair of that row: it is computed once per row of each side (the hoisted
columns, hx<n>_l / hx<n>_r) rather than once per pair.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import sqlglot
from sqlglot import expressions as exp


@dataclass(frozen=True)
class Level:
    gamma: int
    weight: float  # log2(m/u); 0 for the null level
    tf_column: str | None = None
    tf_weight: float = 0.0
    tf_min_u: float = 0.0
    exact_u: float = 1.0


def model_levels(comparison: dict[str, Any]) -> list[tuple[str, Level]]:
    """(sql_condition, Level) in the model's order, with Splink's gamma numbering: the null
    level is -1, the others count down to 0."""
    levels = comparison["comparison_levels"]
    gamma = sum(1 for lv in levels if not lv.get("is_null_level")) - 1
    exact_u: dict[str, float] = {}
    for lv in levels:
        column = lv.get("tf_adjustment_column")
        if column and lv.get("u_probability"):
            exact_u.setdefault(column, lv["u_probability"])
    out = []
    for lv in levels:
        if lv.get("is_null_level"):
            out.append((lv["sql_condition"], Level(-1, 0.0)))
            continue
        m, u = lv.get("m_probability"), lv.get("u_probability")
        weight = math.log2(m / u) if m and u else 0.0
        column = lv.get("tf_adjustment_column")
        out.append((lv["sql_condition"], Level(
            gamma, weight, column, float(lv.get("tf_adjustment_weight", 1.0)) if column else 0.0,
            float(lv.get("tf_minimum_u_value", 0.0)), float(exact_u.get(column, 1.0)))))
        gamma -= 1
    return out


_SIDES = ("_l", "_r")


class Hoister:
    """Rewrites conditions so that their one-sided function calls read hoisted columns."""

    def __init__(self) -> None:
        self.columns: dict[str, str] = {}  # SQL over the side's own columns -> hx<n>

    def rewrite(self, condition: str) -> str:
        if condition.strip().upper() == "ELSE":
            return condition
        try:
            tree = sqlglot.parse_one(condition, read="duckdb")
        except sqlglot.errors.ParseError:
            return condition
        changed = False

        def swap(node: exp.Expr) -> exp.Expr:
            nonlocal changed
            side = _one_side(node) if isinstance(node, exp.Func) else None
            if side is None:
                return node
            plain = node.copy()
            for column in plain.find_all(exp.Column):
                column.replace(exp.column(column.name[:-2], quoted=True))
            name = self.columns.setdefault(plain.sql(dialect="duckdb"),
                                           f"hx{len(self.columns)}")
            changed = True
            return exp.column(f"{name}{side}")

        rewritten = tree.transform(swap, copy=True)
        return rewritten.sql(dialect="duckdb") if changed else condition

    def sources(self) -> dict[str, str | None]:
        """Per hoisted column (hx<n>), the one column its SQL reads, or None when it reads
        more than one (a function of one column's value can be worked out once per distinct
        value: match/indexed.py does so for a dictionary-encoded column)."""
        out: dict[str, str | None] = {}
        for sql, name in self.columns.items():
            read = {c.name for c in sqlglot.parse_one(sql, read="duckdb").find_all(exp.Column)}
            out[name] = read.pop() if len(read) == 1 else None
        return out

    def select_sql(self, alias: str, given: Collection[str] = ()) -> str:
        """The hoisted columns computed over a side's table `alias` (', expr AS hx<n>'...),
        but those `given` (the table has them already)."""
        return "".join(f", {_aliased(sql, alias)} AS {name}"
                       for sql, name in self.columns.items() if name not in given)


def _aliased(sql: str, alias: str) -> str:
    tree = sqlglot.parse_one(sql, read="duckdb")
    for column in tree.find_all(exp.Column):
        column.replace(exp.column(column.name, table=alias, quoted=True))
    return tree.sql(dialect="duckdb")


def _one_side(node: exp.Expr) -> str | None:
    """'_l' or '_r' when every column the expression reads is of that side (and it reads
    one); None otherwise."""
    sides = {c.name[-2:] for c in node.find_all(exp.Column)}
    if len(sides) != 1:
        return None
    side = sides.pop()
    return side if side in _SIDES else None


def _case_sql(name: str, levels: list[tuple[str, Level]]) -> str:
    whens = []
    for condition, level in levels:
        if condition.strip().upper() == "ELSE":
            whens.append(f"ELSE {level.gamma}")
        else:
            whens.append(f"WHEN {condition} THEN {level.gamma}")
    return f"CASE {' '.join(whens)} END AS gamma_{name}"


def prior_weight(prior: float) -> float:
    return math.log2(prior / (1.0 - prior))


def _double(x: float) -> str:
    """A float as a DOUBLE literal (DuckDB reads a plain 1.25 as a DECIMAL, whose arithmetic
    costs several times more)."""
    return f"CAST({x!r} AS DOUBLE)"


def _log2(x: float) -> str:
    return _double(math.log2(x))


def _tf_sql(name: str, levels: list[tuple[str, Level]]) -> str:
    """The term-frequency adjustment of a comparison's level, as its match weight (SQL over
    tf_<column>_l / tf_<column>_r, the frequencies of each side's value; none when neither side's
    value has one)."""
    whens = []
    for _, lv in levels:
        if lv.tf_column is None or lv.tf_weight == 0 or lv.gamma == -1:
            continue
        left, right = f"tf_{lv.tf_column}_l", f"tf_{lv.tf_column}_r"
        whens.append(
            f"WHEN gamma_{name} = {lv.gamma} AND ({left} IS NOT NULL OR {right} IS NOT NULL) "
            f"THEN {_double(lv.tf_weight)} * ({_log2(lv.exact_u)} - log2(greatest({left}, "
            f"{right}, {_double(lv.tf_min_u)})))")
    zero = _double(0.0)
    return f"CASE {' '.join(whens)} ELSE {zero} END" if whens else zero


def _weight_case(name: str, levels: list[tuple[str, Level]]) -> str:
    whens = " ".join(f"WHEN {lv.gamma} THEN {_double(lv.weight)}" for _, lv in levels)
    return f"CASE gamma_{name} {whens} END"


class PairScorer:
    """The model's scores of many pairs in one DuckDB query: each comparison's gamma level by
    the model's own SQL conditions, the match weight as Splink computes it (the prior's weight
    plus, per comparison, log2(m/u) of its level and the term-frequency adjustment)."""

    def __init__(self, model: dict[str, Any]) -> None:
        self.prior = prior_weight(float(model["probability_two_random_records_match"]))
        self.hoister = Hoister()
        self.levels = {c["output_column_name"]: [(self.hoister.rewrite(sql), level)
                                                 for sql, level in model_levels(c)]
                       for c in model["comparisons"]}
        self.tf_columns = sorted({lv.tf_column for levels in self.levels.values()
                                  for _, lv in levels if lv.tf_column})

    def sql(self, pairs: str, reached: str, threshold: float, keep: tuple[str, ...] = ()) -> str:
        """SQL scoring `pairs` (a relation with <column>_l, <column>_r for every model column
        and tf_<column>_l / _r for the term-frequency columns, plus whatever else it carries)
        into Splink's prediction columns: match_weight, match_probability, and per comparison
        gamma_<name>, mw_<name> and mw_tf_adj_<name>, with the `keep` columns of the pairs.
        Only pairs `reached` (SQL over the pair) and at or above the `threshold` probability
        are kept."""
        gammas = ", ".join(_case_sql(name, levels) for name, levels in self.levels.items())
        weights = ", ".join(f"{_weight_case(name, levels)} AS mw_{name}, "
                            f"{_tf_sql(name, levels)} AS mw_tf_adj_{name}"
                            for name, levels in self.levels.items())
        total = " + ".join([_double(self.prior),
                            *(f"mw_{n} + mw_tf_adj_{n}" for n in self.levels)])
        outputs = ", ".join(f"gamma_{n}, mw_{n}, mw_tf_adj_{n}" for n in self.levels)
        return f"""
WITH gammas AS (SELECT *, {gammas} FROM {pairs} WHERE coalesce(({reached}), FALSE)),
weights AS (SELECT *, {weights} FROM gammas),
scored AS (SELECT *, {total} AS match_weight FROM weights)
SELECT {''.join(f"{c}, " for c in keep)}{outputs}, match_weight,
       1.0 / (1.0 + pow(2.0, -match_weight)) AS match_probability
FROM scored WHERE {_at_least(threshold)}"""


def threshold_weight(probability: float) -> float:
    """The match weight a probability threshold comes to (-inf: every pair; inf: none)."""
    if probability <= 0:
        return -math.inf
    if probability >= 1:
        return math.inf
    return math.log2(probability / (1.0 - probability))


def _at_least(probability: float) -> str:
    """The threshold as a condition on the match weight (one compare, no power, per pair)."""
    weight = threshold_weight(probability)
    if math.isinf(weight):
        return "TRUE" if weight < 0 else "FALSE"
    return f"match_weight >= {_double(weight)}"
