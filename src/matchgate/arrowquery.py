"""One DuckDB query over Arrow tables, in an in-memory DuckDB opened and closed around it.

For work on a table in hand that SQL says best (rendering or parsing JSON for a chunk's
candidates): nothing is kept between calls, so a caller in any thread or process may use it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import duckdb
import pyarrow as pa


def query_arrow(sql: str, tables: Mapping[str, pa.Table],
                params: Sequence[Any] | None = None) -> pa.Table:
    """The query's result; `tables` are registered under their names for it."""
    con = duckdb.connect()
    try:
        for name, table in tables.items():
            con.register(name, table)
        return con.sql(sql, params=params).to_arrow_table()
    finally:
        con.close()
