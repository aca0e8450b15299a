"""The baseline: a plain Splink link_only model with off-the-shelf comparisons.

Jaro-Winkler on the first and last names, Levenshtein on the street line and the ZIP, exact date
of birth; inputs only trimmed and upper-cased; trained by EM; the best candidate per request is
disclosed when its match probability is at least 0.9.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
from splink import DuckDBAPI, Linker, SettingsCreator, block_on
from splink import comparison_library as cl

THRESHOLD = 0.9
FIELDS = ("first_name", "last_name", "date_of_birth", "street", "zip")


@dataclass(frozen=True)
class BaselineResult:
    best: dict[str, tuple[str, float]]  # request_id -> (tin, match probability)
    seconds: float


def _settings() -> SettingsCreator:
    return SettingsCreator(
        link_type="link_only",
        unique_id_column_name="unique_id",
        comparisons=[
            cl.JaroWinklerAtThresholds("first_name"),
            cl.JaroWinklerAtThresholds("last_name"),
            cl.LevenshteinAtThresholds("street"),
            cl.LevenshteinAtThresholds("zip"),
            cl.ExactMatch("date_of_birth"),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("zip"), block_on("last_name", "date_of_birth"),
            block_on("first_name", "last_name")],
        additional_columns_to_retain=["tin"],
        linker_uid="baseline",
    )


def _clean(column: str) -> str:
    return f"nullif(upper(trim({column})), '') AS {column}"


def _inputs(con: duckdb.DuckDBPyConnection, master: Path, requests: Path,
            request_ids: list[str] | None) -> None:
    cols = ", ".join(_clean(c) for c in FIELDS)
    con.sql(f"CREATE TABLE base_master AS SELECT 'M' || CAST(row_number() OVER () AS VARCHAR) "
            f"AS unique_id, tin, {cols} FROM read_parquet('{master}')")
    select = (f"CREATE TABLE base_requests AS SELECT request_id AS unique_id, "
              f"CAST(NULL AS VARCHAR) AS tin, {cols} "
              f"FROM read_csv('{requests}', all_varchar = true)")
    if request_ids is None:
        con.sql(select)
    else:
        con.sql(f"{select} WHERE request_id IN (SELECT unnest(?))", params=[request_ids])


def run_baseline(master: Path, requests: Path, request_ids: list[str] | None, *,
                 seed: int) -> BaselineResult:
    """Train and run the baseline on the given (valid) requests; every request of the file
    when request_ids is None."""
    start = time.perf_counter()
    con = duckdb.connect()
    try:
        _inputs(con, master, requests, request_ids)
        db_api = DuckDBAPI(connection=con.cursor())
        sides = [db_api.register("base_master", dataset_display_name="master"),
                 db_api.register("base_requests", dataset_display_name="requests")]
        linker = Linker(sides, _settings(), log_level=logging.WARNING)
        linker.training.estimate_probability_two_random_records_match(
            [block_on("first_name", "last_name", "date_of_birth")], recall=0.7)
        linker.training.estimate_u_using_random_sampling(max_pairs=2e6, seed=seed)
        for rule in (block_on("date_of_birth"), block_on("zip")):
            linker.training.estimate_parameters_using_expectation_maximisation(rule)
        pred = linker.inference.predict(threshold_match_probability=0.01)
        rows = con.sql(f"""
            SELECT CASE WHEN source_dataset_l = 'requests' THEN unique_id_l ELSE unique_id_r END,
                   CASE WHEN source_dataset_l = 'master' THEN tin_l ELSE tin_r END,
                   match_probability
            FROM {pred.physical_name}""").fetchall()
    finally:
        con.close()
    best: dict[str, tuple[str, float]] = {}
    for rid, tin, prob in rows:
        if rid not in best or prob > best[rid][1]:
            best[rid] = (tin, float(prob))
    return BaselineResult(best=best, seconds=time.perf_counter() - start)
