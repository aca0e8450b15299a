"""Intake: the batch manifest and the request file readers (CSV, JSON Lines, Parquet).

File-level problems (missing, wrong format, undecodable, no header, unknown columns, empty batch)
raise InputError naming the file. A bad row never raises and is never dropped: it becomes a request
with an intake rejection that names the row and the field.
"""

from __future__ import annotations

import csv
import io
import json
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from matchgate.agreement import validation_problems
from matchgate.columns import REQUEST_COLUMNS, REQUIRED_REQUEST_COLUMNS
from matchgate.errors import InputError, ManifestError, NotFound, Problem
from matchgate.gate.rejection import Rejection

MAX_FIELD_LENGTH = 1_000
FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet"}


class Manifest(BaseModel):
    """What a batch carries besides its rows: the agreement, the basis and who certifies it."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    agreement_id: str = Field(min_length=1)
    legal_basis: str = Field(min_length=1)
    requesting_official: str | None = None
    certification: str | None = None
    court: str | None = None
    docket: str | None = None
    order_date: date | None = None


def load_manifest(path: Path) -> Manifest:
    if not path.is_file():
        raise NotFound(f"manifest file not found: {path}")
    try:
        text = path.read_text(encoding="utf-8-sig")
        data = json.loads(text) if path.suffix.lower() == ".json" else tomllib.loads(text)
    except (UnicodeDecodeError, ValueError) as exc:
        raise ManifestError(f"{path} is not a readable manifest (TOML or JSON)",
                            problems=[Problem(str(exc), file=str(path))]) from None
    if not isinstance(data, dict):
        raise ManifestError(f"{path} must hold a table of fields, not {type(data).__name__}")
    try:
        return Manifest.model_validate(data)
    except ValidationError as exc:
        raise ManifestError(f"{path} is not a valid manifest ({exc.error_count()} problems)",
                            problems=validation_problems(exc, str(path))) from None


@dataclass(frozen=True)
class RequestRow:
    row_number: int  # 1-based data row (the header is row 0)
    request_id: str
    fields: dict[str, str | None]
    intake_rejection: Rejection | None = None


@dataclass(frozen=True)
class IntakeResult:
    path: Path
    format: str
    requests: list[RequestRow]


def _value(raw: object) -> str | None:
    if raw is None:
        return None
    text = raw.isoformat() if isinstance(raw, date) else str(raw)
    text = text.strip()
    return text or None


def _row(row_number: int, values: Mapping[str, object], seen: set[str]) -> RequestRow:
    """One row's fields, and the first problem with it, if any."""
    fields = {c: _value(values.get(c)) for c in REQUEST_COLUMNS}
    rejection = None
    for name, value in fields.items():
        if value is not None and len(value) > MAX_FIELD_LENGTH:
            rejection = Rejection("field_too_long", name,
                                  f"{len(value):,} characters (at most {MAX_FIELD_LENGTH:,})")
            fields[name] = value[:MAX_FIELD_LENGTH]
            break
        if value is not None and "\x00" in value:
            rejection = Rejection("row_malformed", name, "contains a NUL byte")
            fields[name] = value.replace("\x00", "")
            break
    rid = fields["request_id"]
    if rid is None:
        rid = f"row-{row_number}"
        rejection = rejection or Rejection("missing_request_id", "request_id",
                                           "the request has no request_id")
    elif rid in seen:
        rid = f"{rid}#row-{row_number}"
        rejection = rejection or Rejection("duplicate_request_id", "request_id",
                                           "the request_id was used on an earlier row")
    seen.add(rid)
    return RequestRow(row_number, rid, fields, rejection)


def _malformed(row_number: int, message: str, seen: set[str], values: Mapping[str, object]
               ) -> RequestRow:
    row = _row(row_number, values, seen)
    return RequestRow(row.row_number, row.request_id, row.fields,
                      Rejection("row_malformed", None, f"row {row_number}: {message}"))


def _check_header(path: Path, header: list[str]) -> list[str]:
    names = [h.strip().lower() for h in header]
    problems = []
    unknown = [h for h in names if h not in REQUEST_COLUMNS]
    if unknown:
        shown = ", ".join(repr(u) for u in unknown[:10])
        more = f" and {len(unknown) - 10} more" if len(unknown) > 10 else ""
        problems.append(Problem(f"unknown column(s) {shown}{more}; the columns are: "
                                + ", ".join(REQUEST_COLUMNS), file=str(path), row=0))
    missing = [c for c in REQUIRED_REQUEST_COLUMNS if c not in names]
    if missing:
        problems.append(Problem("missing required column(s): " + ", ".join(missing),
                                file=str(path), row=0))
    dupes = sorted({h for h in names if names.count(h) > 1})
    if dupes:
        problems.append(Problem("column(s) named twice: " + ", ".join(dupes), file=str(path),
                                row=0))
    if problems:
        raise InputError(f"{path} does not have the request file's columns", problems=problems)
    return names


def _decode(path: Path, data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError(f"{path} is UTF-16 encoded; save it as UTF-8 and submit it again")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        row = data[: exc.start].count(b"\n")
        raise InputError(
            f"{path} is not UTF-8 text: byte {exc.start:,} (row {row}) cannot be decoded",
            hint="Save the file as UTF-8 (not Latin-1 or Windows-1252) and submit it again.",
        ) from None


def _read_csv(path: Path) -> list[RequestRow]:
    text = _decode(path, path.read_bytes())
    csv.field_size_limit(1 << 30)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise InputError(f"{path} is empty: no header and no requests") from None
    except csv.Error as exc:
        raise InputError(f"{path}: the header row cannot be read ({exc})") from None
    names = _check_header(path, header)
    rows: list[RequestRow] = []
    seen: set[str] = set()
    row_number = 0
    while True:
        row_number += 1
        try:
            values = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            rows.append(_malformed(row_number, f"cannot be read ({exc})", seen, {}))
            continue
        if not any(v.strip() for v in values):
            row_number -= 1
            continue
        mapping = dict(zip(names, values, strict=False))
        if len(values) != len(names):
            rows.append(_malformed(row_number, f"has {len(values)} fields; the header has "
                                   f"{len(names)}", seen, mapping))
            continue
        rows.append(_row(row_number, dict(mapping), seen))
    return rows


def _read_jsonl(path: Path) -> list[RequestRow]:
    text = _decode(path, path.read_bytes())
    rows: list[RequestRow] = []
    seen: set[str] = set()
    row_number = 0
    for line in text.splitlines():
        if not line.strip():
            continue
        row_number += 1
        try:
            obj = json.loads(line)
        except (ValueError, RecursionError) as exc:
            rows.append(_malformed(row_number, f"is not valid JSON ({exc})", seen, {}))
            continue
        if not isinstance(obj, dict):
            rows.append(_malformed(row_number, "is not a JSON object", seen, {}))
            continue
        unknown = [k for k in obj if k not in REQUEST_COLUMNS]
        nested = [k for k, v in obj.items() if isinstance(v, dict | list)]
        if unknown or nested:
            what = (f"unknown field(s) {', '.join(map(repr, unknown[:5]))}" if unknown
                    else f"field(s) {', '.join(nested)} must be text, not nested values")
            safe = {k: v for k, v in obj.items() if k in REQUEST_COLUMNS and k not in nested}
            rows.append(_malformed(row_number, what, seen, safe))
            continue
        rows.append(_row(row_number, obj, seen))
    return rows


def _read_parquet(path: Path) -> list[RequestRow]:
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except Exception as exc:  # pyarrow raises several types for a bad file
        raise InputError(f"{path} is not a readable Parquet file ({exc})") from None
    names = _check_header(path, table.column_names)
    table = table.rename_columns(names)
    seen: set[str] = set()
    return [_row(i, values, seen) for i, values in enumerate(table.to_pylist(), start=1)]


def read_requests(path: Path) -> IntakeResult:
    if not path.is_file():
        raise NotFound(f"request file not found: {path}")
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise InputError(f"{path}: unknown file format '{path.suffix}'",
                         hint="Submit CSV (.csv), JSON Lines (.jsonl) or Parquet (.parquet).")
    reader = {"csv": _read_csv, "jsonl": _read_jsonl, "parquet": _read_parquet}[fmt]
    rows = reader(path)
    if not rows:
        raise InputError(f"{path} holds no requests (an empty batch is not submitted)")
    return IntakeResult(path=path, format=fmt, requests=rows)
