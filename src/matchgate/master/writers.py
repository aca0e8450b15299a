"""Files the generator writes: the master file (Parquet or CSV), CSVs and the batch manifest."""

from __future__ import annotations

import json
from pathlib import Path
from types import TracebackType

import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

MASTER_FORMATS = ("parquet", "csv")
_CSV_OPTIONS = pcsv.WriteOptions(quoting_style="needed")


class MasterWriter:
    """Appends master rows chunk by chunk, so that memory stays flat at any size."""

    def __init__(self, path: Path, schema: pa.Schema, fmt: str):
        self.rows = 0
        self._writer: pq.ParquetWriter | pcsv.CSVWriter
        if fmt == "parquet":
            self._writer = pq.ParquetWriter(path, schema, compression="zstd")
        else:
            self._writer = pcsv.CSVWriter(path, schema, write_options=_CSV_OPTIONS)

    def write(self, table: pa.Table) -> None:
        self._writer.write_table(table)
        self.rows += table.num_rows

    def __enter__(self) -> MasterWriter:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._writer.close()


def write_csv(table: pa.Table, path: Path) -> None:
    pcsv.write_csv(table, path, write_options=_CSV_OPTIONS)


def write_manifest(path: Path, fields: dict[str, str]) -> None:
    """A flat TOML table of strings (JSON string escapes are valid TOML basic strings)."""
    lines = [f"{key} = {json.dumps(value, ensure_ascii=False)}" for key, value in fields.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
