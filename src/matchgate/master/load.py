"""`load_master`: the custodian's master file (CSV or Parquet) into the master store.

The file is read in batches (memory stays flat at any size), every row is standardized with
matchgate.standardize, and rows that cannot be matched on (an invalid TIN, a missing first or last
name, an impossible tax year, a TIN type that contradicts the TIN) are set aside into
`master_rejects` with their reason: counted, kept, never silently dropped. The store is built into
a temporary file next to the target and moved into place with os.replace, so a failed load leaves
the previous store as it was.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from matchgate.columns import MASTER_COLUMNS, STD_COLUMNS, TAXPAYER_STD_COLUMNS
from matchgate.csvsafe import write_csv
from matchgate.errors import InputError, Problem
from matchgate.master.store import SCHEMA_VERSION, open_master
from matchgate.master.tins import is_valid_itin, is_valid_ssn
from matchgate.standardize import standardize_table

Progress = Callable[[str, float], None]

BATCH_ROWS = 100_000
LOAD_MEMORY_LIMIT = "4GB"
FIRST_TAX_YEAR = 1913  # the first year of the federal income tax
REJECT_REASONS: dict[str, str] = {
    "invalid_tin": "the TIN is not a valid SSN or ITIN",
    "tin_type_mismatch": "the TIN type is neither SSN nor ITIN, or contradicts the TIN",
    "missing_first_name": "the first name is missing",
    "missing_last_name": "the last name is missing",
    "invalid_tax_year": "the tax year is missing or out of range",
    "duplicate_tin_year": "a second row for the same TIN and tax year (the first is kept)",
}
#: a load's stages, in order, as progress and the report name them
LOAD_STAGES = {
    "standardize": "read and standardize the master file",
    "store": "history, taxpayers and set-aside rows into the store",
    "rejects": "the set-aside rows written to their file",
    "blocking": "frequent blocking keys and the key index",
}
_RAW_DDL = ", ".join(f"{c} VARCHAR" for c in MASTER_COLUMNS if c != "tax_year")
_STD_DDL = ", ".join(f"{c} VARCHAR" for c in STD_COLUMNS)


@dataclass(frozen=True)
class MasterLoadReport:
    """What a load read, kept and set aside."""

    source: Path
    store_path: Path
    master_version: str
    rows_read: int
    history_rows: int
    taxpayers: int
    rejected_rows: int
    rejects_by_reason: dict[str, int] = field(default_factory=dict)
    rejects_path: Path | None = None
    seconds: float = 0.0
    #: seconds per stage (LOAD_STAGES), so that an operator sees where a long load went
    stage_seconds: dict[str, float] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        """The report as JSON can hold it (paths as text)."""
        return {k: str(v) if isinstance(v, Path) else v for k, v in vars(self).items()}


def file_version(path: Path) -> str:
    """sha256 of the file content, first 16 hex digits."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:16]


def _missing_columns(path: Path, names: list[str]) -> None:
    missing = [c for c in MASTER_COLUMNS if c not in names]
    if missing:
        raise InputError(
            f"{path}: the master file lacks {len(missing)} required column(s)",
            problems=[Problem("required column is missing", file=str(path), field=c)
                      for c in missing],
            hint=f"A master file has the columns: {', '.join(MASTER_COLUMNS)}.")


def _csv_batches(path: Path) -> Iterator[pa.RecordBatch]:
    convert = pcsv.ConvertOptions(column_types={c: pa.string() for c in MASTER_COLUMNS},
                                  strings_can_be_null=True, include_columns=list(MASTER_COLUMNS))
    reader = pcsv.open_csv(path, read_options=pcsv.ReadOptions(block_size=8 << 20),
                           convert_options=convert)
    yield from reader


def _parquet_batches(path: Path) -> Iterator[pa.RecordBatch]:
    yield from pq.ParquetFile(path).iter_batches(batch_size=BATCH_ROWS,
                                                 columns=list(MASTER_COLUMNS))


def _column_names(path: Path, kind: str) -> list[str]:
    if kind == "parquet":
        return list(pq.ParquetFile(path).schema_arrow.names)
    with path.open("rb") as fh:
        header = fh.readline().decode("utf-8-sig").strip()
    return [name.strip().strip('"') for name in header.split(",")]


def _kind(path: Path) -> str:
    with path.open("rb") as fh:
        magic = fh.read(4)
    return "parquet" if magic == b"PAR1" or path.suffix.lower() == ".parquet" else "csv"


def read_master_batches(path: Path) -> Iterator[pa.Table]:
    """The master file as tables of MASTER_COLUMNS, all strings; InputError when unreadable."""
    if not path.is_file():
        raise InputError(f"{path}: no such master file")
    try:
        kind = _kind(path)
        _missing_columns(path, _column_names(path, kind))
        batches = _parquet_batches(path) if kind == "parquet" else _csv_batches(path)
        for batch in batches:
            yield _as_text_table(pa.Table.from_batches([batch]))
    except (pa.ArrowException, OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: the master file cannot be read ({exc})",
                         problems=[Problem(str(exc), file=str(path))]) from exc


def _as_text(name: str, column: pa.ChunkedArray) -> pa.Array:
    array = column.combine_chunks()
    if pa.types.is_dictionary(array.type):
        array = array.dictionary_decode()
    if pa.types.is_string(array.type) or pa.types.is_large_string(array.type):
        return pc.cast(array, pa.string())
    if pa.types.is_timestamp(array.type):
        array = pc.cast(array, pa.date32())
    text = pc.cast(array, pa.string())
    width = {"tin": 9, "zip": 5}.get(name)
    if width and pa.types.is_integer(array.type):
        text = pc.utf8_lpad(text, width, "0")
    return text


def _as_text_table(table: pa.Table) -> pa.Table:
    return pa.table({c: _as_text(c, table.column(c)) for c in MASTER_COLUMNS})


def _tax_years(raw: pa.Array) -> np.ndarray:
    """The tax year as an integer, or -1 when missing, unreadable or out of range."""
    text = pc.utf8_trim_whitespace(pc.fill_null(raw, ""))
    digits = pc.match_substring_regex(text, r"^[0-9]{1,4}$")
    years = pc.cast(pc.if_else(digits, text, "-1"), pa.int64())
    out = np.asarray(years.to_numpy(zero_copy_only=False), dtype=np.int64)
    in_range = (out >= FIRST_TAX_YEAR) & (out <= date.today().year)
    return np.where(in_range, out, -1)


def _tin_checks(std_tin: pa.Array, raw_type: pa.Array) -> tuple[np.ndarray, np.ndarray,
                                                                 np.ndarray]:
    """(TIN valid, TIN type consistent, derived type is ITIN) per row."""
    present = np.asarray(pc.is_valid(std_tin).to_numpy(zero_copy_only=False), dtype=bool)
    digits = np.asarray(pc.fill_null(std_tin, "0").to_numpy(zero_copy_only=False))
    tin = digits.astype(np.int64)
    itin = is_valid_itin(tin)
    valid = present & (is_valid_ssn(tin) | itin)
    given = pc.utf8_upper(pc.utf8_trim_whitespace(pc.fill_null(raw_type, "")))
    given_np = np.asarray(given.to_numpy(zero_copy_only=False))
    derived = np.where(itin, "ITIN", "SSN")
    consistent = (given_np == "") | (given_np == derived)
    return valid, consistent, itin


def _joined_reasons(checks: tuple[tuple[str, np.ndarray], ...], rows: int) -> np.ndarray:
    """Per row, the names of the failed checks joined by ';' ('' when none failed)."""
    joined = np.full(rows, "", dtype=object)
    for name, failed in checks:
        sep = np.where(joined == "", "", ";")
        joined = np.where(failed, joined + sep + name, joined)
    return joined


def classify_rows(std: pa.Table) -> tuple[list[str], np.ndarray, np.ndarray]:
    """For a standardized batch: per row the reasons it is set aside ('' when kept, else
    ';'-joined), the derived TIN type, and the tax year."""
    valid_tin, consistent, itin = _tin_checks(std.column("std_tin").combine_chunks(),
                                              std.column("tin_type").combine_chunks())
    years = _tax_years(std.column("tax_year").combine_chunks())
    checks = (
        ("invalid_tin", ~valid_tin),
        ("tin_type_mismatch", valid_tin & ~consistent),
        ("missing_first_name", np.asarray(pc.is_null(std.column("std_first")))),
        ("missing_last_name", np.asarray(pc.is_null(std.column("std_last")))),
        ("invalid_tax_year", years < 0),
    )
    reasons = _joined_reasons(checks, std.num_rows).tolist()
    return reasons, np.where(itin, "ITIN", "SSN"), years


def _create_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"CREATE TABLE master_history (row_id BIGINT NOT NULL, {_RAW_DDL}, "
                f"tax_year INTEGER NOT NULL, {_STD_DDL})").fetchall()
    con.execute(f"CREATE TABLE master_rejects (source_row BIGINT NOT NULL, reason VARCHAR "
                f"NOT NULL, reasons VARCHAR NOT NULL, {_RAW_DDL}, tax_year VARCHAR)").fetchall()


_KEPT_RAW = [c for c in MASTER_COLUMNS if c not in ("tin_type", "tax_year")]


def standardize_part(raw: pa.Table, first_row: int, part_path: Path) -> int:
    """Standardize and classify one batch and write it as a Parquet part (runs in a worker
    process); returns the number of rows."""
    std = standardize_table(raw)
    reasons, tin_type, years = classify_rows(std)
    std = std.append_column("row_id", pa.array(np.arange(first_row, first_row + raw.num_rows)))
    std = std.append_column("reasons", pa.array(reasons, type=pa.string()))
    std = std.append_column("derived_tin_type", pa.array(tin_type, type=pa.string()))
    std = std.append_column("year", pa.array(years))
    pq.write_table(std, part_path, compression="zstd", compression_level=1)
    return raw.num_rows


def _insert_parts(con: duckdb.DuckDBPyConnection, parts: str) -> None:
    """All standardized parts into master_history or master_rejects, in one parallel pass."""
    raw_cols = ", ".join(_KEPT_RAW)
    source = f"read_parquet('{parts}')"
    con.execute(f"INSERT INTO master_history (row_id, tin_type, {raw_cols}, tax_year, "
                f"{', '.join(STD_COLUMNS)}) SELECT row_id, derived_tin_type, {raw_cols}, "
                f"CAST(year AS INTEGER), {', '.join(STD_COLUMNS)} FROM {source} "
                f"WHERE reasons = ''").fetchall()
    con.execute(f"INSERT INTO master_rejects (source_row, reason, reasons, tin_type, "
                f"{raw_cols}, tax_year) SELECT row_id, split_part(reasons, ';', 1), reasons, "
                f"tin_type, {raw_cols}, tax_year FROM {source} WHERE reasons <> ''"
                ).fetchall()


# A taxpayer files once per tax year: a second row for the same TIN and year is set aside (the
# first in file order is kept), so that no year of a history holds two different people.
_DUPLICATES_SQL = f"""
CREATE TEMP TABLE duplicate_rows AS
SELECT row_id FROM master_history
QUALIFY row_number() OVER (PARTITION BY tin, tax_year ORDER BY row_id) > 1;
INSERT INTO master_rejects (source_row, reason, reasons, tin_type, {", ".join(_KEPT_RAW)},
                            tax_year)
SELECT row_id, 'duplicate_tin_year', 'duplicate_tin_year', tin_type, {", ".join(_KEPT_RAW)},
       CAST(tax_year AS VARCHAR)
FROM master_history WHERE row_id IN (SELECT row_id FROM duplicate_rows);
DELETE FROM master_history WHERE row_id IN (SELECT row_id FROM duplicate_rows);
DROP TABLE duplicate_rows;
"""


# Each taxpayer's latest row (latest tax year, then latest in the file): its row_id found from
# two narrow columns first, then only those rows taken, with the standardized columns that are
# read from this table. A window over the whole rows did the same in 164 s at 10 million
# taxpayers (33 million rows), this in 68 s; 48 s with all standardized columns, 35 s without.
_DERIVED_SQL = f"""
CREATE TABLE taxpayers AS
WITH latest AS (SELECT arg_max(row_id, (tax_year, row_id)) AS row_id
                FROM master_history GROUP BY tin)
SELECT tin, tin_type, tax_year AS last_tax_year, row_id AS last_row_id,
       first_name, middle_name, last_name, suffix, date_of_birth,
       street AS last_street, unit AS last_unit, city AS last_city, state AS last_state,
       zip AS last_zip, {", ".join(TAXPAYER_STD_COLUMNS)}
FROM master_history SEMI JOIN latest USING (row_id)
ORDER BY tin;
CREATE UNIQUE INDEX taxpayers_tin ON taxpayers (tin);
"""


def _finish(con: duckdb.DuckDBPyConnection, source: Path, version: str) -> tuple[int, int, int]:
    con.execute(_DUPLICATES_SQL).fetchall()
    con.execute(_DERIVED_SQL).fetchall()
    history = _count(con, "master_history")
    taxpayers = _count(con, "taxpayers")
    rejected = _count(con, "master_rejects")
    con.execute(
        "CREATE TABLE store_meta AS SELECT ? AS master_version, ? AS source_file, "
        "CAST(? AS TIMESTAMPTZ) AS loaded_at, ? AS history_rows, ? AS taxpayers, "
        "? AS rejected_rows, ? AS schema_version",
        [version, str(source), datetime.now(UTC).isoformat(), history, taxpayers, rejected,
         SCHEMA_VERSION]).fetchall()
    return history, taxpayers, rejected


def _count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    return int(con.sql(f"SELECT count(*) FROM {table}").fetchall()[0][0])


def _temporary_path(store_path: Path) -> Path:
    return store_path.with_name(f".{store_path.name}.{os.getpid()}.loading")


def _remove(path: Path) -> None:
    for p in (path, path.with_name(path.name + ".wal")):
        p.unlink(missing_ok=True)


def default_workers() -> int:
    """One standardizing process per core (usaddress is pure Python and dominates a load)."""
    return max(1, os.cpu_count() or 1)


def _standardize_parts(source: Path, parts: Path, report: Progress, workers: int) -> int:
    """Every batch of the source standardized into parts/NNNNNN.parquet, `workers` processes at
    a time, with at most two batches per worker in flight (memory stays flat)."""
    total = max(_row_estimate(source), 1)
    if workers == 1 or total <= BATCH_ROWS:
        return _standardize_inline(source, parts)
    rows = 0
    pending: deque[Future[int]] = deque()
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
        for number, batch in enumerate(read_master_batches(source)):
            part = parts / f"{number:06d}.parquet"
            pending.append(pool.submit(standardize_part, batch, rows + 1, part))
            rows += batch.num_rows
            while len(pending) > 2 * workers:
                pending.popleft().result()
                report("standardize", min(1.0, (rows - 2 * workers * BATCH_ROWS) / total))
        while pending:
            pending.popleft().result()
    report("standardize", 1.0)
    return rows


def _standardize_inline(source: Path, parts: Path) -> int:
    rows = 0
    for number, batch in enumerate(read_master_batches(source)):
        rows += standardize_part(batch, rows + 1, parts / f"{number:06d}.parquet")
    return rows


class _Stages:
    """Each stage's progress reported at its start and end, and its seconds kept."""

    def __init__(self, report: Progress) -> None:
        self.report = report
        self.seconds: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        started = time.monotonic()
        self.report(name, 0.0)
        yield
        self.seconds[name] = round(time.monotonic() - started, 2)
        self.report(name, 1.0)


def _build(source: Path, tmp: Path, stages: _Stages, workers: int
           ) -> tuple[int, int, int, int]:
    parts = tmp.with_name(tmp.name + ".parts")
    shutil.rmtree(parts, ignore_errors=True)
    parts.mkdir()
    try:
        with stages.stage("standardize"):
            rows = _standardize_parts(source, parts, stages.report, workers)
        # the parts are read in file order (DuckDB preserves insertion order), so no sort is
        # needed; the memory limit makes the taxpayers table spill rather than grow
        con = duckdb.connect(str(tmp), config={"memory_limit": LOAD_MEMORY_LIMIT})
        try:
            with stages.stage("store"):
                _create_tables(con)
                if rows:
                    _insert_parts(con, str(parts / "*.parquet"))
                history, taxpayers, rejected = _finish(con, source, file_version(source))
                con.execute("CHECKPOINT").fetchall()
            return rows, history, taxpayers, rejected
        finally:
            con.close()
    finally:
        shutil.rmtree(parts, ignore_errors=True)


def _row_estimate(path: Path) -> int:
    try:
        if _kind(path) == "parquet":
            return int(pq.ParquetFile(path).metadata.num_rows)
    except (pa.ArrowException, OSError):
        return 0
    return max(path.stat().st_size // 120, 1)


def rejects_path_for(store_path: Path) -> Path:
    """Where the rows set aside at load are written by default: next to the store."""
    return store_path.with_name(store_path.stem + ".rejects.csv")


def _reject_rows(reader: pa.RecordBatchReader) -> Iterator[dict[str, Any]]:
    for batch in reader:
        yield from batch.to_pylist()


def _write_rejects(store_path: Path, target: Path) -> dict[str, int]:
    """The rejected rows (source row, reasons, raw columns) as CSV; counts by reason."""
    with duckdb.connect(str(store_path), read_only=True) as con:
        result = con.sql("SELECT * FROM master_rejects ORDER BY source_row")
        write_csv(target, result.columns, _reject_rows(result.to_arrow_reader(65536)))
        return dict(con.sql("SELECT reason, count(*) FROM master_rejects GROUP BY reason "
                            "ORDER BY reason").fetchall())


def prepare_blocking(store_path: Path, version: str) -> None:
    """The shipped model's key index (match/keyindex.py), built once with the store so that the
    first batch or lookup does not pay for it. The frequent blocking keys (match/frequent.py)
    are read by the Splink engines only (DuckDB, Spark), not by the default indexed engine nor
    the fast path: they are computed by the first batch that uses one of those engines (some
    10 s at 10 million taxpayers) and kept next to the store, not by every load."""
    from matchgate.match.blocking import blocking_keys
    from matchgate.match.builtonce import remove_built
    from matchgate.match.engine import load_model
    from matchgate.match.frequent import frequent_dir_for
    from matchgate.match.keyindex import index_dir_for, open_index
    from matchgate.match.train import DEFAULT_MODEL_PATH

    model = load_model(DEFAULT_MODEL_PATH)
    keys = blocking_keys(model)
    # Files built for this version from the store just replaced describe that store, not this
    # one: a reload of the same file (same version) by a release that standardizes otherwise
    # would otherwise keep serving the old standardized rows. They are built again.
    remove_built(index_dir_for(store_path, version))
    shutil.rmtree(frequent_dir_for(store_path, version), ignore_errors=True)
    if keys is not None:
        open_index(store_path, version, model)


def load_master(path: Path, store_path: Path, *, progress: Progress | None = None,
                rejects_path: Path | None = None, workers: int | None = None
                ) -> MasterLoadReport:
    """Load a master file into a new store at store_path, replacing any old one atomically.

    Rows set aside are kept in the store's master_rejects table and written to rejects_path
    (default: rejects_path_for(store_path)). `workers` standardizing processes (default: one
    per core)."""
    started = time.monotonic()
    path, store_path = Path(path), Path(store_path)
    stages = _Stages(progress or (lambda stage, fraction: None))
    store_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temporary_path(store_path)
    _remove(tmp)
    try:
        rows, history, taxpayers, rejected = _build(path, tmp, stages,
                                                    workers or default_workers())
        os.replace(tmp, store_path)
    finally:
        _remove(tmp)
    rejects = Path(rejects_path) if rejects_path else rejects_path_for(store_path)
    with stages.stage("rejects"):
        by_reason = _write_rejects(store_path, rejects)
    with open_master(store_path) as store:
        version = store.meta().master_version
    with stages.stage("blocking"):
        prepare_blocking(store_path, version)
    return MasterLoadReport(source=path, store_path=store_path, master_version=version,
                            rows_read=rows, history_rows=history, taxpayers=taxpayers,
                            rejected_rows=rejected, rejects_by_reason=by_reason,
                            rejects_path=rejects, seconds=round(time.monotonic() - started, 2),
                            stage_seconds=stages.seconds)
