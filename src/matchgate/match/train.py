"""Training the model with Splink: u by seeded random sampling, the prior from deterministic
rules, m by expectation maximisation over a few blocking rules; saved as Splink settings JSON.

The model is trained on requests linked to the master history (no labels needed): a generated
batch, or a past batch of real requests. Without requests, each taxpayer's latest filing is
linked to the earlier filings; that teaches how addresses change across years but not how
requesters misspell names, so name variants then get little credit.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.csv as pcsv
from splink import DuckDBAPI, Linker, block_on
from splink.internals.blocking_rule_creator import BlockingRuleCreator

from matchgate.columns import REQUEST_COLUMNS
from matchgate.errors import InputError
from matchgate.master.store import open_master
from matchgate.match.calibrate import calibrate
from matchgate.match.inputs import STORE_ALIAS, attach_store, master_select, requests_input
from matchgate.match.settings import MASTER_DATASET, REQUESTS_DATASET, settings_creator
from matchgate.standardize import standardize_table

DEFAULT_MODEL_PATH = Path(__file__).with_name("model.json")

# Pairs that agree on all of these are the same person; about this share of true pairs do
# (dates of birth are often missing from requests, and people move).
DETERMINISTIC_RULES: list[BlockingRuleCreator | str] = [
    block_on("std_first", "std_last", "std_dob"),
    block_on("std_first", "std_last", "std_house", "std_street_name", "std_zip5"),
]
DETERMINISTIC_RECALL = 0.7
# Blocks in which few pairs are relatives (who share the address, the surname and sometimes the
# given name, and would pass for matches): the same date of birth, then the same TIN (requests
# that carry one), which teaches the date of birth. When no request carries a TIN, the same
# surname and given-name key stands in, at the cost of counting some juniors as matches.
EM_RULES: list[BlockingRuleCreator] = [block_on("std_dob"), block_on("std_tin")]
EM_FALLBACK_RULE = block_on("std_last_first", "std_first_canon")
MIN_EM_PAIRS = 200


@dataclass(frozen=True)
class LevelParameters:
    comparison: str
    level: str
    m: float | None
    u: float | None

    @property
    def weight(self) -> float | None:
        if not self.m or not self.u:
            return None
        return math.log2(self.m / self.u)


@dataclass
class TrainReport:
    model_path: Path
    prior: float
    levels: list[LevelParameters] = field(default_factory=list)
    chart_path: Path | None = None
    pairs_note: str = ""


def read_requests_file(path: Path) -> pa.Table:
    """A request file (CSV) standardized, for training."""
    try:
        table = pcsv.read_csv(path, convert_options=pcsv.ConvertOptions(
            column_types={c: pa.string() for c in REQUEST_COLUMNS}, strings_can_be_null=True))
    except (pa.ArrowException, OSError) as exc:
        raise InputError(f"{path}: the request file cannot be read ({exc})") from exc
    return standardize_table(table)


def _inputs(con: duckdb.DuckDBPyConnection, requests: pa.Table | None) -> str:
    """Create the master-side tables (and requests_input when requests is None); a note."""
    parity = "CAST(substr(tin, 9, 1) AS INTEGER) % 2"
    con.execute(f"CREATE TABLE u_even AS {master_select(f'{parity} = 0')}").fetchall()
    con.execute(f"CREATE TABLE u_odd AS {master_select(f'{parity} = 1')}").fetchall()
    if requests is not None:
        con.execute(f"CREATE TABLE master_input AS {master_select()}").fetchall()
        return "requests linked to the master history"
    latest = f"row_id IN (SELECT last_row_id FROM {STORE_ALIAS}.taxpayers)"
    con.execute(f"CREATE TABLE master_input AS {master_select(f'NOT ({latest})')}").fetchall()
    con.execute(f"CREATE TABLE requests_input AS {master_select(latest)}").fetchall()
    return "latest filings linked to earlier filings (no requests given)"


def _u_model(con: duckdb.DuckDBPyConnection, *, seed: int, u_max_pairs: float
             ) -> dict[str, Any]:
    """u from pairs of master rows of different taxpayers (the TINs split by last digit), so
    that no true match, and no request, distorts it."""
    db_api = DuckDBAPI(connection=con.cursor())
    sides = [db_api.register("u_even", dataset_display_name=MASTER_DATASET),
             db_api.register("u_odd", dataset_display_name=REQUESTS_DATASET)]
    linker = Linker(sides, settings_creator(linker_uid=f"matchgate-seed-{seed}"),
                    log_level=logging.WARNING)
    linker.training.estimate_u_using_random_sampling(max_pairs=u_max_pairs, seed=seed)
    return linker.misc.save_model_to_json()


def _linker(con: duckdb.DuckDBPyConnection, requests: pa.Table | None,
            model: dict[str, Any]) -> Linker:
    db_api = DuckDBAPI(connection=con.cursor())
    master = db_api.register("master_input", dataset_display_name=MASTER_DATASET)
    if requests is None:
        side = db_api.register("requests_input", dataset_display_name=REQUESTS_DATASET)
    else:
        con.register("requests_input", requests_input(requests))
        side = db_api.register(requests_input(requests), dataset_display_name=REQUESTS_DATASET)
    return Linker([master, side], model, log_level=logging.WARNING)


def _pairs(con: duckdb.DuckDBPyConnection, column: str, requests_table: str) -> int:
    sql = (f"SELECT count(*) FROM master_input m JOIN {requests_table} r "
           f"ON m.{column} = r.{column}")
    return int(con.sql(sql).fetchall()[0][0])


def _estimate(linker: Linker, con: duckdb.DuckDBPyConnection, requests_table: str) -> None:
    linker.training.estimate_probability_two_random_records_match(
        DETERMINISTIC_RULES, recall=DETERMINISTIC_RECALL)
    rules = list(EM_RULES)
    if _pairs(con, "std_tin", requests_table) < MIN_EM_PAIRS:
        rules[1] = EM_FALLBACK_RULE
    for rule in rules:
        linker.training.estimate_parameters_using_expectation_maximisation(
            rule, estimate_without_term_frequencies=True)


def save_weights_chart(con: duckdb.DuckDBPyConnection, model: dict[str, Any],
                       chart_path: Path) -> None:
    """Splink's match-weights chart of the model, as self-contained HTML."""
    db_api = DuckDBAPI(connection=con.cursor())
    sides = [db_api.register("master_input", dataset_display_name=name, table_name=name)
             for name in (MASTER_DATASET, REQUESTS_DATASET)]
    linker = Linker(sides, model, log_level=logging.WARNING)
    chart_path.parent.mkdir(parents=True, exist_ok=True)
    linker.visualisations.match_weights_chart().save(str(chart_path), inline=True)


def level_parameters(model: dict[str, object]) -> list[LevelParameters]:
    """Every comparison level's m and u from a saved model dict."""
    out = []
    comparisons = model.get("comparisons", [])
    assert isinstance(comparisons, list)
    for comparison in comparisons:
        for level in comparison["comparison_levels"]:
            if level.get("is_null_level"):
                continue
            out.append(LevelParameters(
                comparison=comparison["output_column_name"],
                level=level.get("label_for_charts") or level["sql_condition"],
                m=level.get("m_probability"), u=level.get("u_probability")))
    return out


def train_model(master_store: Path, out_path: Path = DEFAULT_MODEL_PATH, *, seed: int = 2025,
                requests: pa.Table | None = None, u_max_pairs: float = 5e6,
                chart_path: Path | None = None) -> TrainReport:
    """Train on the store (and a standardized request table, when given); save the model JSON
    to out_path and, when chart_path is given, the match-weights chart as inline HTML."""
    open_master(master_store).close()  # StoreError with a hint when missing
    con = duckdb.connect()
    try:
        attach_store(con, str(master_store))
        note = _inputs(con, requests)
        linker = _linker(con, requests, _u_model(con, seed=seed, u_max_pairs=u_max_pairs))
        _estimate(linker, con, "requests_input")
        model = calibrate(linker.misc.save_model_to_json(), pairs_sampled=u_max_pairs)
        out_path.parent.mkdir(parents=True, exist_ok=True)
        out_path.write_text(json.dumps(model, indent=2) + "\n", encoding="utf-8")
        if chart_path is not None:
            save_weights_chart(con, model, chart_path)
    finally:
        con.close()
    prior = float(model["probability_two_random_records_match"])
    return TrainReport(model_path=out_path, prior=prior, levels=level_parameters(model),
                       chart_path=chart_path, pairs_note=note)
