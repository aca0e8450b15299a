"""The Spark engine: the same Splink model, the same blocking and the same candidates, on Spark.

pyspark is optional (`pip install 'matchgate[spark]'`); it is imported only when this engine is
built, and its absence is a ConfigError that says what to install.

The master store is exported once per master version to Parquet next to the store
(`<store>.spark/<version>/history.parquet`), which a cluster reads from shared storage. The model
is carried over from its DuckDB form: the settings are compiled for Spark from the same
SettingsCreator, and the trained m and u of every level and the prior are copied across, level
by level. Term frequencies are the master's own (as on DuckDB). Spark finds and scores the pairs;
the scored pairs above the threshold (a few per request) come back as Arrow and are turned into
candidates by the same SQL as on DuckDB, against the master store.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from matchgate.errors import ConfigError, StoreError
from matchgate.master.store import open_master
from matchgate.match.blocking import (
    BLOCK_KEY_CAP,
    blocking_keys,
    capped_model,
    flag_columns,
    key_sets,
)
from matchgate.match.builtonce import build_once
from matchgate.match.candidates import CANDIDATE_COLUMNS, candidates_sql
from matchgate.match.engine import (
    _empty_candidates,
    comparison_names,
    flag_requests,
    load_model,
    master_term_frequencies,
    tf_columns,
    tf_comparisons,
)
from matchgate.match.frequent import frequent_keys
from matchgate.match.inputs import attach_store, master_select, requests_input
from matchgate.match.settings import MASTER_DATASET, REQUESTS_DATASET, settings_creator
from matchgate.match.train import DEFAULT_MODEL_PATH

INSTALL_HINT = "Install the Spark extra: pip install 'matchgate[spark]' (and Java 17)."


def _pyspark() -> Any:
    try:
        import pyspark.sql
    except ImportError as exc:
        raise ConfigError("the Spark engine needs pyspark, which is not installed",
                          hint=INSTALL_HINT) from exc
    return pyspark.sql


def spark_model(model: dict[str, Any]) -> dict[str, Any]:
    """The trained DuckDB model compiled for Spark: settings from the same SettingsCreator, m, u
    and the prior copied level by level."""
    spark = settings_creator().create_settings_dict("spark")
    ours = {c["output_column_name"]: c for c in model["comparisons"]}
    for comparison in spark["comparisons"]:
        trained = ours.get(comparison["output_column_name"])
        levels = comparison["comparison_levels"]
        if trained is None or len(trained["comparison_levels"]) != len(levels):
            raise StoreError("the match model does not fit the model settings (a comparison "
                             f"differs: {comparison['output_column_name']})",
                             hint="Train it again: matchgate model train")
        for level, learned in zip(levels, trained["comparison_levels"], strict=True):
            for key in ("m_probability", "u_probability"):
                if learned.get(key) is not None:
                    level[key] = learned[key]
    spark["probability_two_random_records_match"] = model[
        "probability_two_random_records_match"]
    spark.update(retain_matching_columns=True, retain_intermediate_calculation_columns=True)
    return spark


def start_session(master: str = "local[*]", *, app_name: str = "matchgate",
                  checkpoint_dir: str | None = None) -> Any:
    """A Spark session with Splink's similarity functions; a local one when master is local.
    Splink checkpoints intermediate tables: on a cluster, checkpoint_dir (or
    MATCHGATE_SPARK_CHECKPOINT_DIR) must be shared storage (HDFS, S3)."""
    sql = _pyspark()
    from splink.backends.spark import similarity_jar_location

    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    builder = (sql.SparkSession.builder.master(master).appName(app_name)
               .config("spark.ui.enabled", "false")
               .config("spark.ui.showConsoleProgress", "false")
               .config("spark.jars", similarity_jar_location()))
    if master.startswith("local"):
        builder = (builder.config("spark.driver.memory", "2g")
                   .config("spark.sql.shuffle.partitions", "2")
                   .config("spark.default.parallelism", "2"))
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    session.sparkContext.setCheckpointDir(
        checkpoint_dir or os.environ.get("MATCHGATE_SPARK_CHECKPOINT_DIR")
        or tempfile.mkdtemp(prefix="matchgate-spark-checkpoints-"))
    return session


def export_master(store_path: Path, target: Path) -> None:
    """The master history's model input as Parquet, `target`/history.parquet (built aside, then
    renamed; one process at a time, the others wait and use it)."""
    build_once(target, (target / "history.parquet").exists,
               lambda tmp: _write_export(store_path, tmp))


def _write_export(store_path: Path, tmp: Path) -> None:
    con = duckdb.connect()
    try:
        attach_store(con, str(store_path))
        escaped = str(tmp / "history.parquet").replace("'", "''")
        con.execute(f"COPY ({master_select()}) TO '{escaped}' (FORMAT parquet)").fetchall()
    finally:
        con.close()


class SparkMatchEngine:
    """Splink on Spark over the master store's Parquet export (MatchEngine)."""

    def __init__(self, store_path: Path, model_path: Path = DEFAULT_MODEL_PATH, *,
                 master: str = "local[*]", session: Any = None,
                 key_cap: int = BLOCK_KEY_CAP) -> None:
        _pyspark()
        self.store_path = Path(store_path)
        with open_master(self.store_path) as store:
            self.master_version = store.meta().master_version
            self.tf = master_term_frequencies(store.cursor(), tf_columns(load_model(model_path)))
        model = load_model(model_path)
        self.model = spark_model(model)
        self.comparisons = comparison_names(model)
        self.tf_comparisons = tf_comparisons(model)
        self.keys = blocking_keys(model)
        self.frequent: pa.Table | None = None
        if self.keys is not None:  # the same frequent keys left out as on DuckDB
            self.model = capped_model(self.model, self.keys)
            self.frequent = frequent_keys(self.store_path, self.master_version, self.keys,
                                          key_cap)
        self.export = self.store_path.with_name(self.store_path.name + ".spark") / (
            self.master_version)
        export_master(self.store_path, self.export)
        self.spark = session or start_session(master)

    def _master_side(self, requests: Any) -> Any:
        """The master rows some request blocks with (a union of semi-joins per rule)."""
        history = self.spark.read.parquet(str(self.export / "history.parquet"))
        if self.keys is None:
            return history
        functions = _pyspark().functions
        sets, flags = key_sets(self.keys), flag_columns(self.keys)
        for flag in flags:
            history = history.withColumn(flag, functions.lit(True))
        parts = [history.join(requests.where(functions.col(flags[sets.index(rule)]))
                              .select(*rule), on=list(rule), how="left_semi")
                 for rule in self.keys]
        side = parts[0]
        for part in parts[1:]:
            side = side.unionByName(part)
        return side.dropDuplicates(["unique_id"])

    def find_candidates(self, requests: pa.Table, *,
                        threshold_probability: float = 0.01) -> pa.Table:
        from splink import Linker, SparkAPI

        shaped = requests_input(requests)
        if shaped.num_rows == 0:
            return _empty_candidates()
        if self.keys is not None and self.frequent is not None:
            shaped = flag_requests(shaped, self.keys, self.frequent)
        spark_requests = self.spark.createDataFrame(shaped)
        db_api = SparkAPI(spark_session=self.spark, break_lineage_method="persist")
        sides = [db_api.register(self._master_side(spark_requests),
                                 dataset_display_name=MASTER_DATASET),
                 db_api.register(spark_requests, dataset_display_name=REQUESTS_DATASET)]
        linker = Linker(sides, self.model, log_level=logging.WARNING)
        for column, table in self.tf.items():
            linker.table_management.register_term_frequency_lookup(
                db_api.register(self.spark.createDataFrame(table)), column)
        predictions = linker.inference.predict(threshold_match_probability=threshold_probability,
                                               warning_mode="never")
        pairs = predictions.as_spark_dataframe().toArrow()
        return self._candidates(pairs, shaped)

    def _candidates(self, pairs: pa.Table, shaped: pa.Table) -> pa.Table:
        """The same candidates SQL as on DuckDB, over the pairs Spark scored."""
        with tempfile.TemporaryDirectory(prefix="matchgate-spark-") as tmp:
            con = duckdb.connect(config={"temp_directory": tmp})
            try:
                attach_store(con, str(self.store_path))
                pq.write_table(pairs, Path(tmp) / "pairs.parquet")
                con.execute(f"CREATE VIEW pairs AS SELECT * FROM "
                            f"read_parquet('{Path(tmp) / 'pairs.parquet'}')").fetchall()
                con.register("requests_in", shaped)
                sql = candidates_sql("pairs", "requests_in", self.comparisons,
                                     self.tf_comparisons)
                return con.sql(sql).to_arrow_table().select(list(CANDIDATE_COLUMNS))
            finally:
                con.close()
