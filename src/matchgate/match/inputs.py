"""The two inputs of the model, shaped alike: unique_id plus the std_* columns it reads."""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from matchgate.errors import InputError, Problem
from matchgate.match.settings import MODEL_COLUMNS, UNIQUE_ID

STORE_ALIAS = "mstore"
MASTER_PREFIX = "M"


def attach_store(con: duckdb.DuckDBPyConnection, store_path: str) -> None:
    """Attach the master store read-only under STORE_ALIAS."""
    escaped = store_path.replace("'", "''")
    con.execute(f"ATTACH '{escaped}' AS {STORE_ALIAS} (READ_ONLY)").fetchall()


# What the candidates need of a history row besides the model input (candidates_sql).
HISTORY_IDS = ("row_id", "tin", "tax_year")


def master_select(where: str = "TRUE", alias: str = "master_history",
                  extra: tuple[str, ...] = ()) -> str:
    """SQL selecting the master history as model input (unique_id 'M' || row_id), with the
    `extra` columns of the history too."""
    cols = ", ".join(f"{alias}.{c}" for c in (*MODEL_COLUMNS, *extra))
    return (f"SELECT '{MASTER_PREFIX}' || CAST({alias}.row_id AS VARCHAR) AS {UNIQUE_ID}, "
            f"{cols} FROM {STORE_ALIAS}.master_history {alias} WHERE {where}")


def requests_input(requests: pa.Table) -> pa.Table:
    """request_id as unique_id and the model's std_* columns, as strings.

    InputError when a column is missing or a request_id is missing or repeated."""
    missing = [c for c in ("request_id", *MODEL_COLUMNS) if c not in requests.column_names]
    if missing:
        raise InputError("the requests lack standardized columns the model needs",
                         problems=[Problem("column is missing", field=c) for c in missing],
                         hint="Standardize requests with matchgate.standardize.standardize_table.")
    ids = pc.cast(requests.column("request_id"), pa.string())
    if ids.null_count:
        raise InputError("a request has no request_id", problems=[Problem(
            "request_id is missing", field="request_id")])
    if pc.count_distinct(ids).as_py() != requests.num_rows:
        raise InputError("request_id values repeat; each request needs its own",
                         problems=[Problem("duplicate request_id", field="request_id")])
    arrays = {UNIQUE_ID: ids}
    arrays.update({c: pc.cast(requests.column(c), pa.string()) for c in MODEL_COLUMNS})
    return pa.table(arrays)
