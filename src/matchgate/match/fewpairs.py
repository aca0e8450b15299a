"""One request's pairs scored in Python: the fast path's scorer.

The same computation as the SQL of scoring.PairScorer and candidates.candidates_sql, for the few
hundred pairs of a single request, without DuckDB's per-query binding and planning (which cost
a single request more than the scoring itself). Per pair: the blocking rules (with their filters
and the rare-key flags) must hold; per comparison, the first of the model's levels whose
condition holds (sqlpy), its log2(m/u) and term-frequency adjustment, summed in the same order
as the SQL (the prior, then each comparison's weight and adjustment), so the weights are the
same floating-point numbers. Per taxpayer, the best history row (highest weight, then latest
year), its evidence and the taxpayer's last known address.

Anything sqlpy cannot reproduce exactly raises Unsupported (at construction) or Inexact (per
request); the engine then scores by SQL. A test compares both on every pair of a sample.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pyarrow as pa

from matchgate.match.scoring import Level, model_levels, prior_weight, threshold_weight
from matchgate.match.sqlpy import (
    Fn,
    Inexact,
    Row,
    Unsupported,
    columns_read,
    compile_condition,
)

ADDRESS_KEY = ("std_house", "std_street_name", "std_unit", "std_zip5")
LAST_ADDRESS = ("last_street", "last_unit", "last_city", "last_state", "last_zip")
TAXPAYER_NAMES = ("std_first", "std_first_canon", "std_last", "std_suffix", "std_dob")


@dataclass(frozen=True)
class ScoredPair:
    row: Row  # the master history row
    gamma: dict[str, int]
    weights: dict[str, float]  # per comparison, log2(m/u) plus its term-frequency adjustment
    match_weight: float
    match_probability: float


def sql_round(value: float, digits: int) -> float:
    """DuckDB's round(DOUBLE, digits): the exact binary value rounded in decimal, halves away
    from zero (a test holds it to DuckDB's on some 700,000 values)."""
    if math.isinf(value) or math.isnan(value):
        return value
    step = Decimal(1).scaleb(-digits)
    return float(Decimal(value).quantize(step, rounding=ROUND_HALF_UP))


def _ascii(row: Row, columns: Sequence[str]) -> None:
    if not "".join([v for c in columns if isinstance(v := row[c], str)]).isascii():
        raise Inexact("text that is not ASCII")


class FewPairScorer:
    """The model's scores of one request's pairs, in Python."""

    def __init__(self, model: dict[str, Any], reached: str,
                 term_frequencies: Mapping[str, pa.Table]) -> None:
        self.prior = prior_weight(float(model["probability_two_random_records_match"]))
        self.comparisons: list[tuple[str, list[tuple[Fn, Level]]]] = []
        self.reads: list[tuple[str, ...]] = []  # per comparison, the master columns it reads
        for comparison in model["comparisons"]:
            levels = model_levels(comparison)
            if levels[-1][0].strip().upper() != "ELSE":
                raise Unsupported(f"{comparison['output_column_name']}: no ELSE level")
            self.comparisons.append((comparison["output_column_name"],
                                     [(compile_condition(sql), lv) for sql, lv in levels]))
            self.reads.append(tuple(sorted(set().union(
                *(columns_read(sql, "_l") for sql, _ in levels)))))
        self.reached = compile_condition(reached)
        conditions = [reached, *(sql for c in model["comparisons"]
                                 for sql in (lv["sql_condition"] for lv in c["comparison_levels"]))]
        self.master_reads = sorted(set().union(*(columns_read(c, "_l") for c in conditions)))
        self.request_reads = sorted(set().union(*(columns_read(c, "_r") for c in conditions)))
        self._tables = term_frequencies
        self._frequencies: dict[str, dict[str, float]] = {}

    def frequency(self, column: str, value: str | None) -> float | None:
        """The master's term frequency of a value (None when it has none)."""
        if value is None:
            return None
        table = self._frequencies.get(column)
        if table is None:  # once per column and process (the first request pays it)
            source = self._tables[column]
            table = dict(zip(source.column(column).to_pylist(),
                             source.column(f"tf_{column}").to_pylist(), strict=True))
            self._frequencies[column] = table
        return table.get(value)

    def _adjustment(self, level: Level, row: Row, request: Row) -> float:
        column = level.tf_column
        if column is None or level.tf_weight == 0 or level.gamma == -1:
            return 0.0
        left, right = self.frequency(column, row[column]), self.frequency(column,
                                                                           request[column])
        if left is None and right is None:
            return 0.0
        most = max(v for v in (left, right, level.tf_min_u) if v is not None)
        return level.tf_weight * (math.log2(level.exact_u) - math.log2(most))

    def score(self, request: Row, rows: Sequence[Row], threshold_probability: float
              ) -> list[ScoredPair]:
        """The pairs of the request with each row that a blocking rule reaches and whose
        probability is at least the threshold. Rows carry the rare flags as True (the
        master's side), the request its own."""
        _ascii(request, self.request_reads)
        at_least = threshold_weight(threshold_probability)
        scored = []
        # per comparison, the level of each combination of the master's values it reads (the
        # request is the same for every pair; a taxpayer's years share names and dates)
        known: list[dict[tuple[Any, ...], tuple[Level, float]]] = [{} for _ in self.comparisons]
        for row in rows:
            _ascii(row, self.master_reads)
            if self.reached(row, request) is not True:
                continue
            total = self.prior
            gamma, weights = {}, {}
            for (name, levels), reads, seen in zip(self.comparisons, self.reads, known,
                                                    strict=True):
                values = tuple(row[c] for c in reads)
                held = seen.get(values)
                if held is None:
                    level = _first_holding(levels, row, request)
                    held = seen[values] = (level, self._adjustment(level, row, request))
                level, adjustment = held
                total = total + level.weight + adjustment
                gamma[name] = level.gamma
                weights[name] = level.weight + adjustment
            if total >= at_least:
                scored.append(ScoredPair(row, gamma, weights, total,
                                         1.0 / (1.0 + 2.0 ** -total)))
        return scored


def _first_holding(levels: list[tuple[Fn, Level]], row: Row, request: Row) -> Level:
    """The first level whose condition holds (the last one, ELSE, always does)."""
    for condition, level in levels:
        if condition(row, request) is True:
            return level
    return levels[-1][1]


def best_by_taxpayer(scored: Sequence[ScoredPair]) -> list[ScoredPair]:
    """Per TIN, the pair of highest weight (then of the latest tax year)."""
    best: dict[str, ScoredPair] = {}
    for pair in scored:
        held = best.get(pair.row["tin"])
        if held is None or ((pair.match_weight, pair.row["tax_year"])
                            > (held.match_weight, held.row["tax_year"])):
            best[pair.row["tin"]] = pair
    return list(best.values())


def _address_is_last_known(request: Row, taxpayer: Row) -> bool:
    same = all(request[c] is not None and request[c] == taxpayer[c]
               for c in ("std_house", "std_street_name", "std_zip5"))
    unit, last_unit = request["std_unit"], taxpayer["std_unit"]
    return same and (unit is None or last_unit is None or unit == last_unit)


def candidate_rows(request_id: str, request: Row, best: Sequence[ScoredPair],
                   taxpayers: Mapping[str, Row]) -> list[dict[str, Any]]:
    """The candidates (candidates.CANDIDATE_COLUMNS, the evidence as JSON text) of one
    request from its best pair per taxpayer, highest weight first."""
    out = []
    for pair in sorted(best, key=lambda p: (-p.match_weight, p.row["tin"])):
        taxpayer = taxpayers[pair.row["tin"]]
        out.append({
            "request_id": request_id, "tin": pair.row["tin"], "tin_type": taxpayer["tin_type"],
            "match_probability": pair.match_probability, "match_weight": pair.match_weight,
            "evidence": json.dumps({"match_weights": {n: sql_round(w, 4)
                                                      for n, w in pair.weights.items()},
                                    "gamma": pair.gamma}),
            **{c: taxpayer[c] for c in LAST_ADDRESS},
            **{c: taxpayer[c] for c in TAXPAYER_NAMES},
            "household_key": " ".join(taxpayer[c] for c in ADDRESS_KEY
                                      if taxpayer[c] is not None),
            "address_is_last_known": _address_is_last_known(request, taxpayer),
            "matched_history_year": pair.row["tax_year"],
        })
    return out
