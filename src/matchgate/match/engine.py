"""The engine interface, and its DuckDB implementation with Splink.

An engine takes standardized requests (request_id and the std_* columns; the caller
standardizes) and returns candidate taxpayers with their match probability and evidence. The
engine is chosen by configuration; callers depend only on MatchEngine.
"""

from __future__ import annotations

import json
import logging
import math
import tempfile
from pathlib import Path
from typing import Any, Protocol

import duckdb
import pyarrow as pa
from splink import DuckDBAPI, Linker

from matchgate.errors import ConfigError, StoreError
from matchgate.master.store import open_master
from matchgate.match.blocking import (
    BLOCK_KEY_CAP,
    blocking_keys,
    capped_model,
    flag_columns,
    flag_sql,
    key_sets,
    reachable_where,
)
from matchgate.match.candidates import CANDIDATE_COLUMNS, candidates_sql
from matchgate.match.frequent import frequent_keys
from matchgate.match.inputs import (
    HISTORY_IDS,
    STORE_ALIAS,
    attach_store,
    master_select,
    requests_input,
)
from matchgate.match.settings import MASTER_DATASET, REQUESTS_DATASET
from matchgate.match.train import DEFAULT_MODEL_PATH

REQUESTS_PER_CHUNK = 25_000
MASTER_ROWS_PER_CHUNK = 2_000_000
# DuckDB's share of memory per call (it spills beyond it): verify's peak stays within 8 GiB
# with the Python side and the screening processes.
MATCH_MEMORY_LIMIT = "4GB"


class MatchEngine(Protocol):
    """Finds the taxpayers who could be the person each request names."""

    master_version: str

    def find_candidates(self, requests: pa.Table, *,
                        threshold_probability: float = 0.01) -> pa.Table:
        """One row per (request_id, tin) scoring at least threshold_probability; columns
        CANDIDATE_COLUMNS. Requests without a candidate have no row."""
        ...


def load_model(model_path: Path) -> dict[str, Any]:
    try:
        model: dict[str, Any] = json.loads(Path(model_path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise StoreError(f"{model_path}: the match model cannot be read ({exc})",
                         hint="Train one with: matchgate model train") from exc
    return model


def comparison_names(model: dict[str, Any]) -> list[str]:
    return [c["output_column_name"] for c in model["comparisons"]]


def tf_comparisons(model: dict[str, Any]) -> frozenset[str]:
    """Comparisons with a term-frequency adjusted level."""
    return frozenset(c["output_column_name"] for c in model["comparisons"]
                     if any(lv.get("tf_adjustment_column") for lv in c["comparison_levels"]))


def _empty_candidates() -> pa.Table:
    types = {"match_probability": pa.float64(), "match_weight": pa.float64(),
             "address_is_last_known": pa.bool_(), "matched_history_year": pa.int32()}
    return pa.table({c: pa.array([], type=types.get(c, pa.string()))
                     for c in CANDIDATE_COLUMNS})


class DuckDBMatchEngine:
    """Splink on DuckDB over the master store. Each call works in its own in-memory database
    (intermediate tables spill to a temporary folder), so calls never share state."""

    def __init__(self, store_path: Path, model_path: Path = DEFAULT_MODEL_PATH, *,
                 requests_per_chunk: int = REQUESTS_PER_CHUNK,
                 key_cap: int = BLOCK_KEY_CAP):
        self.store_path = Path(store_path)
        with open_master(self.store_path) as store:
            meta = store.meta()
        self.master_rows = meta.history_rows
        self.master_version = meta.master_version
        self.model = load_model(model_path)
        # the evidence needs the gamma levels, which Splink keeps with the matching columns
        self.model.update(retain_matching_columns=True,
                          retain_intermediate_calculation_columns=True)
        self.comparisons = comparison_names(self.model)
        self.tf_comparisons = tf_comparisons(self.model)
        self.requests_per_chunk = requests_per_chunk
        self.keys = blocking_keys(self.model)
        if self.keys is not None:
            self.model = capped_model(self.model, self.keys)
        self.key_cap = key_cap
        self._tf: dict[str, pa.Table] | None = None
        self._frequent: pa.Table | None = None

    def frequent(self) -> pa.Table:
        """The master's key values too frequent to block on (frequent.py; once per engine)."""
        assert self.keys is not None
        if self._frequent is None:
            self._frequent = frequent_keys(self.store_path, self.master_version, self.keys,
                                           self.key_cap)
        return self._frequent

    def term_frequencies(self) -> dict[str, pa.Table]:
        """Per term-frequency column of the model, its frequencies over the master history
        (computed once per engine): decisions never depend on the other requests of a batch."""
        if self._tf is None:
            with open_master(self.store_path) as store:
                self._tf = master_term_frequencies(store.cursor(), tf_columns(self.model))
        return self._tf

    def _chunks(self, n_master: int, n_requests: int) -> tuple[int, int]:
        """(master chunks, request chunks) for predict."""
        return (max(1, math.ceil(n_master / MASTER_ROWS_PER_CHUNK)),
                max(1, math.ceil(n_requests / self.requests_per_chunk)))

    def find_candidates(self, requests: pa.Table, *,
                        threshold_probability: float = 0.01) -> pa.Table:
        shaped = requests_input(requests)
        if shaped.num_rows == 0:
            return _empty_candidates()
        with tempfile.TemporaryDirectory(prefix="matchgate-match-") as tmp:
            con = duckdb.connect(config={"temp_directory": tmp,
                                         "memory_limit": MATCH_MEMORY_LIMIT})
            try:
                return self._run(con, shaped, threshold_probability)
            finally:
                con.close()

    def _run(self, con: duckdb.DuckDBPyConnection, shaped: pa.Table,
             threshold: float) -> pa.Table:
        attach_store(con, str(self.store_path))
        if self.keys is not None:
            shaped = flag_requests(shaped, self.keys, self.frequent(), con)
        con.register("requests_in", shaped)
        n_master = self._master_input(con)
        db_api = DuckDBAPI(connection=con.cursor())
        sides = [db_api.register("master_input", dataset_display_name=MASTER_DATASET),
                 db_api.register(shaped, dataset_display_name=REQUESTS_DATASET)]
        linker = Linker(sides, self.model, log_level=logging.WARNING)
        for column, table in self.term_frequencies().items():
            linker.table_management.register_term_frequency_lookup(
                db_api.register(table, table_name=f"master_tf_{column}"), column)
        n_master, n_requests = self._chunks(n_master, shaped.num_rows)
        predictions = linker.inference.predict(
            threshold_match_probability=threshold, num_chunks_left=n_master,
            num_chunks_right=n_requests, warning_mode="never")
        sql = candidates_sql(predictions.physical_name, "requests_in", self.comparisons,
                             self.tf_comparisons,
                             history="master_reached" if self.keys is not None else
                             f"{STORE_ALIAS}.master_history")
        return con.sql(sql).to_arrow_table().select(list(CANDIDATE_COLUMNS))

    def _master_input(self, con: duckdb.DuckDBPyConnection) -> int:
        """The master rows some request blocks with, as table master_input; its row count."""
        if self.keys is None:
            con.execute(f"CREATE VIEW master_input AS {master_select()}").fetchall()
            return self.master_rows
        sets = key_sets(self.keys)
        where = reachable_where(self.keys, "h", "requests_in", flags=flag_columns(self.keys),
                                sets=sets)
        flags = "".join(f", TRUE AS {f}" for f in flag_columns(self.keys))
        con.execute(f"CREATE TABLE master_reached AS SELECT * {flags} FROM "
                    f"({master_select(where, alias='h', extra=HISTORY_IDS)})").fetchall()
        con.execute(f"CREATE VIEW master_input AS SELECT * EXCLUDE ({', '.join(HISTORY_IDS)}) "
                    f"FROM master_reached").fetchall()
        return int(con.sql("SELECT count(*) FROM master_reached").fetchall()[0][0])


def flag_requests(requests: pa.Table, keys: list[tuple[str, ...]], frequent: pa.Table,
                  con: duckdb.DuckDBPyConnection | None = None) -> pa.Table:
    """The requests with their rare-key flags (blocking.flag_sql)."""
    own = con is None
    con = con or duckdb.connect()
    try:
        con.register("requests_shaped", requests)
        con.register("frequent_keys", frequent)
        return con.sql(flag_sql(keys, "requests_shaped", "frequent_keys")).to_arrow_table()
    finally:
        con.unregister("requests_shaped")
        con.unregister("frequent_keys")
        if own:
            con.close()


def tf_columns(model: dict[str, Any]) -> list[str]:
    """The columns whose term frequencies the model's levels adjust for."""
    return sorted({lv["tf_adjustment_column"] for c in model["comparisons"]
                   for lv in c["comparison_levels"] if lv.get("tf_adjustment_column")})


def master_term_frequencies(con: duckdb.DuckDBPyConnection, columns: list[str]
                            ) -> dict[str, pa.Table]:
    """Splink's term frequency table per column (value, tf_<column>) over the master history."""
    out = {}
    for column in columns:
        out[column] = con.sql(
            f"SELECT {column}, CAST(count(*) AS DOUBLE) / (SELECT count({column}) FROM "
            f"master_history) AS tf_{column} FROM master_history WHERE {column} IS NOT NULL "
            f"GROUP BY {column}").to_arrow_table()
    return out


def make_engine(kind: str, store_path: Path, *, model_path: Path = DEFAULT_MODEL_PATH,
                spark_master: str = "local[*]") -> MatchEngine:
    """The engine named by configuration: 'indexed' (the master's key index and the model's
    SQL), 'duckdb' (Splink on DuckDB) or 'spark' (Splink on Spark: needs the spark extra)."""
    if kind == "indexed":
        from matchgate.match.indexed import IndexedMatchEngine

        return IndexedMatchEngine(store_path, model_path)
    if kind == "duckdb":
        return DuckDBMatchEngine(store_path, model_path)
    if kind == "spark":
        from matchgate.match.spark import SparkMatchEngine

        return SparkMatchEngine(store_path, model_path, master=spark_master)
    raise ConfigError(f"unknown match engine {kind!r}",
                      hint="Use engine = indexed, duckdb or spark.")
