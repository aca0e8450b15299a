"""Scoring pairs with a saved Splink model, outside Splink (for the single-request fast path).

The gamma level of each comparison is computed by the model's own SQL conditions, in order, in
DuckDB (so a change of the model's comparisons changes this scorer too); the match weight is
Splink's: the prior's weight plus, per comparison, log2(m/u) of its level and, on a level with
term-frequency adjustment, weight * (log2(u of the exact level) - log2(max(tf_l, tf_r, min u))).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import duckdb
import pyarrow as pa

from matchgate.match.settings import MODEL_COLUMNS


@dataclass(frozen=True)
class Level:
    gamma: int
    weight: float  # log2(m/u); 0 for the null level
    tf_column: str | None = None
    tf_weight: float = 0.0
    tf_min_u: float = 0.0
    exact_u: float = 1.0


def _levels(comparison: dict[str, Any]) -> list[tuple[str, Level]]:
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


def _case_sql(name: str, levels: list[tuple[str, Level]]) -> str:
    whens = []
    for condition, level in levels:
        if condition.strip().upper() == "ELSE":
            whens.append(f"ELSE {level.gamma}")
        else:
            whens.append(f"WHEN {condition} THEN {level.gamma}")
    return f"CASE {' '.join(whens)} END AS gamma_{name}"


class ModelScorer:
    """Scores one request against candidate master rows (master on the left, as in bulk)."""

    def __init__(self, model: dict[str, Any], con: duckdb.DuckDBPyConnection,
                 term_frequencies: dict[str, pa.Table], *, reached: str | None = None) -> None:
        """`reached`: SQL over the pairs (<column>_l, <column>_r) saying whether a blocking rule
        reaches the pair; pairs it does not reach are left out, as bulk prediction leaves
        them."""
        self.con = con
        self.prior = _prior_weight(float(model["probability_two_random_records_match"]))
        self.comparisons: dict[str, dict[int, Level]] = {}
        cases = []
        for comparison in model["comparisons"]:
            name = comparison["output_column_name"]
            levels = _levels(comparison)
            self.comparisons[name] = {lv.gamma: lv for _, lv in levels}
            cases.append(_case_sql(name, levels))
        self.cases = cases
        self.sql = self._sql(reached)
        self.tf = {column: dict(zip(t.column(0).to_pylist(), t.column(1).to_pylist(),
                                    strict=True))
                   for column, t in term_frequencies.items()}

    def _sql(self, reached: str | None) -> str:
        last = f"coalesce(({reached}), FALSE) AS reached" if reached else "TRUE"
        return f"SELECT {', '.join([*self.cases, last])} FROM pairs"

    def _pairs(self, request: dict[str, Any], rows: pa.Table) -> pa.Table:
        n = rows.num_rows
        arrays: dict[str, pa.Array] = {}
        for c in MODEL_COLUMNS:
            arrays[f"{c}_l"] = rows.column(c)
            arrays[f"{c}_r"] = pa.array([request.get(c)] * n, type=pa.string())
        return pa.table(arrays)

    def _tf_adjustment(self, level: Level, left: str | None, right: str | None) -> float:
        if level.tf_column is None or level.tf_weight == 0 or level.gamma == -1:
            return 0.0
        freq = self.tf[level.tf_column]
        tf_l, tf_r = freq.get(left) if left else None, freq.get(right) if right else None
        if tf_l is None and tf_r is None:
            return 0.0
        highest = max(v for v in (tf_l, tf_r, level.tf_min_u) if v is not None)
        return level.tf_weight * (math.log2(level.exact_u) - math.log2(highest))

    def score(self, request: dict[str, Any], rows: pa.Table, *, reached: str | None = None
              ) -> list[dict[str, Any]]:
        """Per row: tin, tax_year, gamma and weight per comparison, match_weight and
        match_probability. `reached` replaces the constructor's for this call."""
        pairs = self._pairs(request, rows)
        self.con.register("pairs", pairs)
        try:
            gammas = self.con.sql(self.sql if reached is None else self._sql(reached)
                                  ).fetchall()
        finally:
            self.con.unregister("pairs")
        out = []
        for row, (*levels, reached) in zip(rows.to_pylist(), gammas, strict=True):
            if not reached:
                continue
            weights, gamma = {}, {}
            for (name, by_gamma), g in zip(self.comparisons.items(), levels, strict=True):
                level = by_gamma[g]
                tf_adj = 0.0
                if level.tf_column is not None:
                    tf_adj = self._tf_adjustment(level, row.get(level.tf_column),
                                                 request.get(level.tf_column))
                weights[name] = level.weight + tf_adj
                gamma[name] = g
            total = self.prior + sum(weights.values())
            out.append({"tin": row["tin"], "tax_year": row["tax_year"], "gamma": gamma,
                        "weights": weights, "match_weight": total,
                        "match_probability": 1.0 / (1.0 + math.pow(2.0, -total))})
        return out


def _prior_weight(prior: float) -> float:
    return math.log2(prior / (1.0 - prior))


def _log2(x: float) -> str:
    return repr(math.log2(x))


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
            f"THEN {lv.tf_weight!r} * ({_log2(lv.exact_u)} - log2(greatest({left}, {right}, "
            f"{lv.tf_min_u!r})))")
    return f"CASE {' '.join(whens)} ELSE 0.0 END" if whens else "0.0"


def _weight_case(name: str, levels: list[tuple[str, Level]]) -> str:
    whens = " ".join(f"WHEN {lv.gamma} THEN {lv.weight!r}" for _, lv in levels)
    return f"CASE gamma_{name} {whens} END"


class PairScorer:
    """The model's scores of many pairs in one DuckDB query: each comparison's gamma level by
    the model's own SQL conditions, the match weight as Splink computes it (the prior's weight
    plus, per comparison, log2(m/u) of its level and the term-frequency adjustment)."""

    def __init__(self, model: dict[str, Any]) -> None:
        self.prior = _prior_weight(float(model["probability_two_random_records_match"]))
        self.levels = {c["output_column_name"]: _levels(c) for c in model["comparisons"]}
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
        total = " + ".join([repr(self.prior), *(f"mw_{n} + mw_tf_adj_{n}" for n in self.levels)])
        outputs = ", ".join(f"gamma_{n}, mw_{n}, mw_tf_adj_{n}" for n in self.levels)
        return f"""
WITH gammas AS (SELECT *, {gammas} FROM {pairs} WHERE coalesce(({reached}), FALSE)),
weights AS (SELECT *, {weights} FROM gammas),
scored AS (SELECT *, {total} AS match_weight FROM weights)
SELECT {''.join(f"{c}, " for c in keep)}{outputs}, match_weight,
       1.0 / (1.0 + pow(2.0, -match_weight)) AS match_probability
FROM scored WHERE {_at_least(threshold)}"""


def _at_least(probability: float) -> str:
    """The threshold as a condition on the match weight (one compare, no power, per pair)."""
    if probability <= 0:
        return "TRUE"
    if probability >= 1:
        return "FALSE"
    return f"match_weight >= {math.log2(probability / (1.0 - probability))!r}"
