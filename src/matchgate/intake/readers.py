"""Readers of request files: CSV (UTF-8, with or without a byte-order mark), JSON Lines and
Parquet, chosen by the file's extension.

File-level problems raise InputError naming the file (and the row and field where there is one):
a missing file, an unknown format, text that is not UTF-8, an empty batch, unknown columns, a
missing required column. Row-level problems become requests rejected at intake (rows.build_row).

Row numbers: for CSV the first record after the header is row 1; for JSON Lines a row is a line
of the file (line 1 is row 1; blank lines are skipped but counted); for Parquet the first row is
row 1."""

from __future__ import annotations

import codecs
import csv
import io
import json
import math
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from matchgate.columns import REQUEST_COLUMNS, REQUIRED_REQUEST_COLUMNS
from matchgate.errors import InputError, Problem
from matchgate.intake.rows import IntakeResult, RequestRow, build_row, unique_ids

FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet",
           ".pq": "parquet"}
MAX_LISTED = 20
# Integer columns lose leading zeros; these widths restore them.
ZERO_PAD = {"zip": 5, "tin": 9}
_UTF16_32_BOMS = ((codecs.BOM_UTF32_LE, "UTF-32"), (codecs.BOM_UTF32_BE, "UTF-32"),
                  (codecs.BOM_UTF16_LE, "UTF-16"), (codecs.BOM_UTF16_BE, "UTF-16"))


def _fail(path: Path, message: str, problems: list[Problem] | None = None,
          hint: str = "") -> InputError:
    listed = problems or [Problem(message, file=str(path))]
    if len(listed) > MAX_LISTED:
        extra = len(listed) - MAX_LISTED
        listed = [*listed[:MAX_LISTED], Problem(f"... and {extra} more", file=str(path))]
    return InputError(f"{path}: {message}", problems=listed, hint=hint)


def _check_columns(path: Path, columns: Iterable[str], *, what: str = "column") -> None:
    cols = list(columns)
    problems = []
    for c in cols:
        if c not in REQUEST_COLUMNS:
            problems.append(Problem(f"unknown {what} '{c}'", file=str(path), field=c))
    twice = sorted({c for c in cols if cols.count(c) > 1})
    for c in twice:
        problems.append(Problem(f"{what} '{c}' appears more than once", file=str(path), field=c))
    for c in REQUIRED_REQUEST_COLUMNS:
        if c not in cols:
            problems.append(Problem(f"required {what} '{c}' is missing", file=str(path), field=c))
    if problems:
        raise _fail(path, f"the {what}s do not match the request file contract", problems,
                    hint="Columns: " + ", ".join(REQUEST_COLUMNS))


def _decode_text(path: Path, raw: bytes) -> str:
    for bom, name in _UTF16_32_BOMS:
        if raw.startswith(bom):
            raise _fail(path, f"the file is {name} (byte-order mark at offset 0); "
                              "save it as UTF-8", hint="Request files must be UTF-8.")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        row = raw.count(b"\n", 0, exc.start) + 1
        bad = raw[exc.start:exc.start + 1].hex()
        raise _fail(path, f"not UTF-8: byte 0x{bad} at offset {exc.start} (line {row}) cannot "
                          "be decoded", [Problem(f"byte 0x{bad} at offset {exc.start} is not "
                                                 "UTF-8", file=str(path), row=row)],
                    hint="Request files must be UTF-8 (for example re-save a Latin-1 or "
                         "Windows-1252 file as UTF-8).") from exc
    if "\x00" in text:
        offset = raw.index(b"\x00")
        raise _fail(path, f"NUL byte at offset {offset}: the file looks like UTF-16 without a "
                          "byte-order mark; save it as UTF-8")
    return text


def read_csv(path: Path) -> list[RequestRow]:
    text = _decode_text(path, path.read_bytes())
    if not text.strip():
        raise _fail(path, "the file is empty")
    csv.field_size_limit(16 * 1024 * 1024)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except csv.Error as exc:
        raise _fail(path, f"the header cannot be read: {exc}") from exc
    _check_columns(path, header)
    rows: list[RequestRow] = []
    try:
        for values in reader:
            if not values or (len(values) == 1 and not values[0].strip()):
                continue
            n = len(rows) + 1
            malformed = None
            if len(values) != len(header):
                many = "many" if len(values) > len(header) else "few"
                malformed = (f"too {many} fields ({len(values)}, the header has "
                             f"{len(header)})")
            rows.append(build_row(n, dict(zip(header, values, strict=False)), malformed))
    except csv.Error as exc:
        raise _fail(path, f"row {len(rows) + 1} cannot be read as CSV: {exc}",
                    [Problem(str(exc), file=str(path), row=len(rows) + 1)]) from exc
    return rows


def _json_value(key: str, value: Any) -> tuple[str | None, str | None]:
    """(text, problem) for one JSON value."""
    if value is None:
        return None, None
    if isinstance(value, str):
        return value, None
    if isinstance(value, bool):
        return None, f"field '{key}' is true/false, not text"
    if isinstance(value, int):
        return str(value).zfill(ZERO_PAD.get(key, 0)), None
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer():
            return str(int(value)).zfill(ZERO_PAD.get(key, 0)), None
        return None, f"field '{key}' is the number {value}, not text"
    if isinstance(value, list) and key == "tax_periods" and all(
            isinstance(v, str | int) and not isinstance(v, bool) for v in value):
        return ";".join(str(v) for v in value), None
    return None, f"field '{key}' holds a {type(value).__name__}, not text"


def _json_row(n: int, line: str) -> tuple[RequestRow, list[str]]:
    """The request of one line and the unknown keys it uses."""
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        return build_row(n, {}, f"not valid JSON ({exc.msg} at column {exc.colno})"), []
    if not isinstance(obj, dict):
        return build_row(n, {}, f"a JSON {type(obj).__name__}, not an object"), []
    keys = [str(k).strip().lower() for k in obj]
    unknown = [k for k in keys if k not in REQUEST_COLUMNS]
    values: dict[str, str | None] = {}
    problems = []
    for key, raw in zip(keys, obj.values(), strict=True):
        text, problem = _json_value(key, raw)
        values[key] = text
        if problem:
            problems.append(problem)
    return build_row(n, values, "; ".join(problems) or None), unknown


def read_jsonl(path: Path) -> list[RequestRow]:
    text = _decode_text(path, path.read_bytes())
    rows: list[RequestRow] = []
    problems: list[Problem] = []
    present: set[str] = set()
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        row, unknown = _json_row(n, line)
        rows.append(row)
        present.update(k for k, v in row.fields.items() if v is not None)
        present.update(unknown)
        problems.extend(Problem(f"unknown field '{k}'", file=str(path), row=n, field=k)
                        for k in unknown)
    if not rows:
        raise _fail(path, "the file is empty: no requests")
    if problems:
        raise _fail(path, "fields that are not request columns", problems,
                    hint="Fields: " + ", ".join(REQUEST_COLUMNS))
    readable = [r for r in rows if r.intake_rejection is None
                or r.intake_rejection.reason != "row_malformed"]
    if readable:
        missing = [c for c in REQUIRED_REQUEST_COLUMNS if c not in present]
        if missing:
            raise _fail(path, "required fields are missing from every line", [
                Problem(f"required field '{c}' is missing", file=str(path), field=c)
                for c in missing])
    return rows


def _arrow_text(column: str, value: Any) -> tuple[str | None, str | None]:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None, None
    if isinstance(value, datetime):
        return value.date().isoformat(), None
    if isinstance(value, date):
        return value.isoformat(), None
    if isinstance(value, list):
        return ";".join(str(v) for v in value if v is not None), None
    return _json_value(column, value)


def _parquet_types(path: Path, schema: pa.Schema) -> None:
    problems = []
    for f in schema:
        t = f.type
        ok = (pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_integer(t)
              or pa.types.is_floating(t) or pa.types.is_date(t) or pa.types.is_timestamp(t)
              or pa.types.is_null(t) or pa.types.is_dictionary(t)
              or (f.name == "tax_periods" and (pa.types.is_list(t)
                                               or pa.types.is_large_list(t))))
        if not ok:
            problems.append(Problem(f"column '{f.name}' has type {t}, which cannot be read as "
                                    "text", file=str(path), field=f.name))
    if problems:
        raise _fail(path, "columns of unsupported types", problems)


def read_parquet(path: Path) -> list[RequestRow]:
    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError) as exc:
        raise _fail(path, f"not a readable Parquet file: {exc}") from exc
    names = [n.strip().lower() for n in table.column_names]
    _check_columns(path, names)
    table = table.rename_columns(names)
    _parquet_types(path, table.schema)
    if table.num_rows == 0:
        raise _fail(path, "the file has no rows: an empty batch")
    rows = []
    for i, rec in enumerate(_records(table), start=1):
        values: dict[str, str | None] = {}
        problems = []
        for col, raw in rec.items():
            text, problem = _arrow_text(col, raw)
            values[col] = text
            if problem:
                problems.append(problem)
        rows.append(build_row(i, values, "; ".join(problems) or None))
    return rows


def _records(table: pa.Table) -> Iterator[dict[str, Any]]:
    for batch in table.to_batches(max_chunksize=65536):
        yield from batch.to_pylist()


READERS = {"csv": read_csv, "jsonl": read_jsonl, "parquet": read_parquet}


def read_requests(path: Path | str) -> IntakeResult:
    """Read a request file; see the module docstring for what raises and what rejects a row."""
    p = Path(path)
    fmt = FORMATS.get(p.suffix.lower())
    if fmt is None:
        raise _fail(p, f"unknown format '{p.suffix or '(no extension)'}'",
                    hint="Request files are .csv, .jsonl (or .ndjson) or .parquet.")
    if not p.exists():
        raise _fail(p, "the file does not exist")
    if not p.is_file():
        raise _fail(p, "not a file")
    rows = READERS[fmt](p)
    if not rows:
        raise _fail(p, "the file has a header but no requests: an empty batch")
    return IntakeResult(source=str(p), format=fmt, requests=unique_ids(rows))
