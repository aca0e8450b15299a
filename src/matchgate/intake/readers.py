"""Readers of request files: CSV (UTF-8, with or without a byte-order mark), JSON Lines and
Parquet, chosen by the file's extension.

File-level problems raise InputError naming the file (and the row and field where there is one):
a missing file, an unknown format, text that is not UTF-8 (UTF-16, UTF-32, Latin-1 ... are
refused, naming the byte, its offset and its line), an empty batch, unknown columns, a missing
required column, a value longer than MAX_FIELD_CHARS (a JSON line longer than MAX_LINE_CHARS),
a quote that is never closed. Row-level problems become requests rejected at intake
(rows.build_row): a ragged row, a value too long for its column, a control character, a name in
another script.

Text files are read as a stream (the encoding is checked first, in blocks), so a hostile file
(a 100 MB field, a line without end) is refused without being held in memory. Line ends may be
CR LF, LF or CR alone.

Row numbers: for CSV the first record after the header is row 1; for JSON Lines a row is a line
of the file (line 1 is row 1; blank lines are skipped but counted); for Parquet the first row is
row 1."""

from __future__ import annotations

import codecs
import csv
import json
import math
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from matchgate.columns import REQUEST_COLUMNS, REQUIRED_REQUEST_COLUMNS
from matchgate.errors import InputError, Problem
from matchgate.intake.characters import normalise
from matchgate.intake.rows import MAX_LENGTH, IntakeResult, RequestRow, build_row, unique_stream

FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet",
           ".pq": "parquet"}
MAX_LISTED = 20
# Beyond these a file is refused: no request value comes near them (rows.MAX_LENGTH).
MAX_FIELD_CHARS = 1 << 20
MAX_LINE_CHARS = 4 << 20
BLOCK = 1 << 20
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
            problems.append(Problem(f"unknown {what} '{c[:100]}'", file=str(path),
                                    field=c[:100]))
    counts = Counter(cols)
    for c in sorted(c for c, k in counts.items() if k > 1):
        problems.append(Problem(f"{what} '{c[:100]}' appears more than once", file=str(path),
                                field=c[:100]))
    for c in REQUIRED_REQUEST_COLUMNS:
        if c not in counts:
            problems.append(Problem(f"required {what} '{c}' is missing", file=str(path),
                                    field=c))
    if problems:
        raise _fail(path, f"the {what}s do not match the request file contract", problems,
                    hint="Columns: " + ", ".join(REQUEST_COLUMNS))


def _column_name(raw: str) -> str:
    """A header cell as a column name: character rules (a stray byte-order mark or zero-width
    space goes), stripped, lower case."""
    return normalise(raw)[0].strip().lower()


def _line_of(path: Path, offset: int) -> int:
    """The line (1-based) of a byte offset, counted in blocks."""
    line, done = 1, 0
    with path.open("rb") as fh:
        while done < offset and (block := fh.read(min(BLOCK, offset - done))):
            line += block.count(b"\n")
            done += len(block)
    return line


def _looks_utf16(head: bytes) -> bool:
    """NUL in a quarter or more of the first bytes: UTF-16 (or UTF-32) text."""
    sample = head[:4096]
    return len(sample) >= 4 and sample.count(0) * 4 >= len(sample)


def check_encoding(path: Path) -> None:
    """Refuse a file that is not UTF-8 text (a byte-order mark is allowed), naming the byte,
    its offset and its line. Streamed in blocks: memory stays bounded whatever the size.

    UTF-16 and UTF-32 files are refused, not decoded: a request file is UTF-8 (the batch id is
    a hash of the bytes as sent; one encoding keeps one batch one id). A NUL byte in UTF-8 text
    is a control character: its row is rejected (intake.characters)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0
    with path.open("rb") as fh:
        block = fh.read(BLOCK)
        for bom, name in _UTF16_32_BOMS:
            if block.startswith(bom):
                raise _fail(path, f"the file is {name} (byte-order mark at offset 0); "
                                  "save it as UTF-8", hint="Request files must be UTF-8.")
        if _looks_utf16(block):
            raise _fail(path, f"NUL bytes from offset {block.index(0)}: the file looks like "
                              "UTF-16 without a byte-order mark; save it as UTF-8",
                        hint="Request files must be UTF-8.")
        while block:
            pending = len(decoder.getstate()[0])
            try:
                decoder.decode(block)
            except UnicodeDecodeError as exc:
                at = offset - pending + exc.start
                raise _not_utf8(path, fh, at) from exc
            offset += len(block)
            block = fh.read(BLOCK)
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as exc:
            raise _not_utf8(path, fh, offset - len(decoder.getstate()[0])) from exc


def _not_utf8(path: Path, fh: Any, at: int) -> InputError:
    line = _line_of(path, at)
    fh.seek(at)
    bad = fh.read(1).hex()
    return _fail(path, f"not UTF-8: byte 0x{bad} at offset {at} (line {line}) cannot be "
                       "decoded",
                 [Problem(f"byte 0x{bad} at offset {at} (line {line}) is not UTF-8",
                          file=str(path), row=line)],
                 hint="Request files must be UTF-8 (for example re-save a Latin-1 or "
                      "Windows-1252 file as UTF-8).")


def _too_long(path: Path, row: int, line: int, limit: int, what: str = "a value") -> InputError:
    where = f"row {row} (line {line})" if row else f"line {line}"
    message = (f"{where}: {what} is longer than {limit:,} characters (no request field may be "
               f"longer than {max(MAX_LENGTH.values()):,})")
    return _fail(path, message, [Problem(message, file=str(path), row=row or None)])


def _unclosed_quote(path: Path, row: int, first: int, last: int, got: int, want: int
                    ) -> InputError:
    message = (f"row {row} (lines {first}-{last}): a quoted value runs over several lines and "
               f"the row has {got} fields, not {want}: a quote is probably not closed")
    return _fail(path, message, [Problem(message, file=str(path), row=row)],
                 hint='Close the quote (a quote inside a quoted value is written twice: "").')


def _csv_error(path: Path, exc: csv.Error, row: int, line: int) -> InputError:
    if "field larger" in str(exc):
        return _too_long(path, row, line, MAX_FIELD_CHARS)
    if row == 0:
        return _fail(path, f"the header cannot be read: {exc}")
    return _fail(path, f"row {row} (line {line}) cannot be read as CSV: {exc}",
                 [Problem(str(exc), file=str(path), row=row)])


def csv_stream(path: Path) -> Iterator[RequestRow]:
    """CSV as a stream; a row with the wrong number of fields is a rejected request, unless a
    quoted value ran over lines into it (an unclosed quote: the file is refused, since the rows
    it swallowed would be lost)."""
    check_encoding(path)
    csv.field_size_limit(MAX_FIELD_CHARS)
    with path.open("r", encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh)
        try:
            header = [_column_name(h) for h in next(reader, [])]
        except csv.Error as exc:
            raise _csv_error(path, exc, 0, reader.line_num) from exc
        if not any(header):
            raise _fail(path, "the file is empty")
        _check_columns(path, header)
        count = 0
        first_line = reader.line_num + 1
        try:
            for values in reader:
                if values and (len(values) > 1 or values[0].strip()):
                    count += 1
                    yield _csv_row(path, header, values, count, first_line, reader.line_num)
                first_line = reader.line_num + 1
        except csv.Error as exc:
            raise _csv_error(path, exc, count + 1, first_line) from exc


def _csv_row(path: Path, header: list[str], values: list[str], n: int, first: int,
             last: int) -> RequestRow:
    malformed = None
    if len(values) != len(header):
        if last > first and any("\n" in v or "\r" in v for v in values):
            raise _unclosed_quote(path, n, first, last, len(values), len(header))
        many = "many" if len(values) > len(header) else "few"
        malformed = f"too {many} fields ({len(values)}, the header has {len(header)})"
    return build_row(n, dict(zip(header, values, strict=False)), malformed)


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
    except RecursionError:
        return build_row(n, {}, "not valid JSON (nested too deeply)"), []
    except ValueError as exc:  # a number of more than 4,300 digits
        return build_row(n, {}, f"not valid JSON ({exc})"), []
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


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    """(line number, line) as a stream; lines end with LF, CR LF or CR alone (not with the
    Unicode separators a JSON string may hold); a line longer than MAX_LINE_CHARS is refused."""
    check_encoding(path)
    with path.open("r", encoding="utf-8-sig", newline=None) as fh:
        n = 0
        while line := fh.readline(MAX_LINE_CHARS + 1):
            n += 1
            if len(line) > MAX_LINE_CHARS and not line.endswith("\n"):
                raise _too_long(path, n, n, MAX_LINE_CHARS, "the line")
            yield n, line


def read_jsonl(path: Path) -> list[RequestRow]:
    rows: list[RequestRow] = []
    problems: list[Problem] = []
    present: set[str] = set()
    for n, line in _lines(path):
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
        t = f.type.value_type if pa.types.is_dictionary(f.type) else f.type
        ok = (_scalar_type(t) or (f.name == "tax_periods" and (
            pa.types.is_list(t) or pa.types.is_large_list(t)) and _scalar_type(t.value_type)))
        if not ok:
            problems.append(Problem(f"column '{f.name}' has type {t}, which cannot be read as "
                                    "text", file=str(path), field=f.name))
    if problems:
        raise _fail(path, "columns of unsupported types", problems)


def _scalar_type(t: pa.DataType) -> bool:
    return bool(pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_integer(t)
                or pa.types.is_floating(t) or pa.types.is_date(t) or pa.types.is_timestamp(t)
                or pa.types.is_null(t))


def read_parquet(path: Path) -> list[RequestRow]:
    """Columns and their types are checked on the schema, before any data is read."""
    try:
        schema = pq.read_schema(path)
    except (pa.ArrowException, OSError) as exc:
        raise _fail(path, f"not a readable Parquet file: {exc}") from exc
    names = [_column_name(n) for n in schema.names]
    _check_columns(path, names)
    _parquet_types(path, pa.schema([f.with_name(n) for f, n in zip(schema, names, strict=True)]))
    try:
        table = pq.read_table(path).rename_columns(names)
    except (pa.ArrowException, OSError) as exc:
        raise _fail(path, f"not a readable Parquet file: {exc}") from exc
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
        try:
            records = batch.to_pylist()
        except (ValueError, OverflowError, pa.ArrowException):
            # dates beyond Python's (year 10000 and after): read them as text instead
            records = pa.Table.from_batches([batch]).cast(pa.schema([
                f.with_type(pa.string()) if pa.types.is_temporal(f.type) else f
                for f in batch.schema])).to_pylist()
        yield from records


STREAMS: dict[str, Callable[[Path], Iterable[RequestRow]]] = {
    "csv": csv_stream, "jsonl": read_jsonl, "parquet": read_parquet}


def read_requests(path: Path | str) -> IntakeResult:
    """Read a request file; see the module docstring for what raises and what rejects a row."""
    p, fmt = _request_file(path)
    return IntakeResult(source=str(p), format=fmt, requests=list(request_stream(p)))


def request_stream(path: Path | str) -> Iterator[RequestRow]:
    """The requests of a file as they are read (a CSV file's as a stream; the other formats'
    once the whole file is checked): what read_requests holds, in its order. A problem with
    the file raises as it is met, after the rows before it were given."""
    p, fmt = _request_file(path)
    count = 0
    for row in unique_stream(STREAMS[fmt](p)):
        count += 1
        yield row
    if not count:
        raise _fail(p, "the file has a header but no requests: an empty batch")


def _request_file(path: Path | str) -> tuple[Path, str]:
    """The path and its format, or InputError for an unknown format or a missing file."""
    p = Path(path)
    fmt = FORMATS.get(p.suffix.lower())
    if fmt is None:
        raise _fail(p, f"unknown format '{p.suffix or '(no extension)'}'",
                    hint="Request files are .csv, .jsonl (or .ndjson) or .parquet.")
    if not p.exists():
        raise _fail(p, "the file does not exist")
    if not p.is_file():
        raise _fail(p, "not a file")
    return p, fmt
