"""The master store: a DuckDB file built by `load_master` and opened read-only by the engines.

Tables:
- master_history: one row per taxpayer per tax year (raw columns, std_* columns, row_id)
- taxpayers: one row per TIN with the latest tax year's raw address as the last known address
- master_rejects: rows set aside at load, with the reason
- store_meta: one row (master_version, source_file, loaded_at, counts)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import duckdb

from matchgate.errors import StoreError

SCHEMA_VERSION = 2  # 2: the taxpayers table keeps columns.TAXPAYER_STD_COLUMNS only
REQUIRED_TABLES = ("master_history", "taxpayers", "master_rejects", "store_meta")
LOAD_HINT = "Load the master file first: matchgate master load MASTER_FILE"


@dataclass(frozen=True)
class StoreMeta:
    master_version: str
    source_file: str
    loaded_at: str
    history_rows: int
    taxpayers: int
    rejected_rows: int
    schema_version: int


class MasterStore:
    """A read-only handle on the master store. Use as a context manager, or call close()."""

    def __init__(self, path: Path, con: duckdb.DuckDBPyConnection):
        self.path = path
        self._con = con

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A cursor of the caller's own (results never block another caller)."""
        return self._con.cursor()

    def meta(self) -> StoreMeta:
        rows = self._con.sql(
            "SELECT master_version, source_file, CAST(loaded_at AS VARCHAR), history_rows, "
            "taxpayers, rejected_rows, schema_version FROM store_meta").fetchall()
        if not rows:
            raise StoreError(f"{self.path}: the store has no metadata row", hint=LOAD_HINT)
        return StoreMeta(*rows[0])

    def close(self) -> None:
        self._con.close()

    def __enter__(self) -> MasterStore:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def open_master(store_path: Path) -> MasterStore:
    """Open the store read-only; StoreError (with a hint) when it is missing or incomplete."""
    store_path = Path(store_path)
    if not store_path.is_file():
        raise StoreError(f"no master store at {store_path}", hint=LOAD_HINT)
    try:
        con = duckdb.connect(str(store_path), read_only=True)
    except duckdb.Error as exc:
        raise StoreError(f"{store_path}: cannot open the master store ({exc})",
                         hint=LOAD_HINT) from exc
    tables = {r[0] for r in con.sql("SELECT table_name FROM information_schema.tables "
                                    "WHERE table_schema = 'main'").fetchall()}
    missing = [t for t in REQUIRED_TABLES if t not in tables]
    if missing:
        con.close()
        raise StoreError(f"{store_path}: not a complete master store (missing "
                         f"{', '.join(missing)})", hint=LOAD_HINT)
    return MasterStore(store_path, con)
