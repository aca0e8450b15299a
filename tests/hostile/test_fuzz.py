"""Fuzzing the readers, the manifest and the gate with hypothesis: whatever the bytes, text or
row, the only outcomes are parsed rows (each request carrying its intake rejection, if any, and
only storable text), our own InputError/ManifestError, or the gate's rejections.

Bounded for CI: FUZZ_EXAMPLES examples per test (default 400; the whole module takes about 15 s
on 2 cores). A long run: MATCHGATE_FUZZ_EXAMPLES=20000 pytest tests/hostile/test_fuzz.py."""

from __future__ import annotations

import json
import os
import re
import tempfile
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matchgate.agreement import load_agreement
from matchgate.columns import REQUEST_COLUMNS
from matchgate.errors import InputError, ManifestError
from matchgate.examples import example_path
from matchgate.gate import check_request, dedupe_key
from matchgate.intake import IntakeResult, load_manifest, read_requests
from matchgate.intake.manifest import Manifest
from matchgate.intake.rows import build_row
from matchgate.standardize import standardize_record

FUZZ_EXAMPLES = int(os.environ.get("MATCHGATE_FUZZ_EXAMPLES", "400"))
FUZZ = settings(max_examples=FUZZ_EXAMPLES, deadline=timedelta(seconds=5), derandomize=False,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
AGREEMENT = load_agreement(example_path("agreement.toml"))
MANIFEST = load_manifest(example_path("manifest.toml"))
TODAY = date(2026, 1, 15)
HEADER = ",".join(REQUEST_COLUMNS)
_UNSTORABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")

# Text that looks like a request file: header pieces, separators, quotes and line ends.
CSV_PIECES = st.lists(st.one_of(
    st.sampled_from([",", '"', '""', "\n", "\r", "\r\n", "\x00", "\ufeff", "\u202e", "\u200b",
                     "=HYPERLINK(1)", "R1", "Maria", "2022;2023", "1980-02-03", "\u0420"]),
    st.text(max_size=12)), max_size=60).map("".join)


def _read(suffix: str, data: bytes) -> IntakeResult | None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"requests{suffix}"
        path.write_bytes(data)
        try:
            result = read_requests(path)
        except InputError as exc:
            assert exc.message and exc.exit_code == 2
            return None
    _check_rows(result)
    return result


def _check_rows(result: IntakeResult) -> None:
    ids = [r.request_id for r in result.requests]
    assert len(ids) == len(set(ids))
    for row in result.requests:
        assert set(row.fields) == set(REQUEST_COLUMNS)
        for value in row.fields.values():
            assert value is None or (value == value.strip() and not _UNSTORABLE.search(value))
        if row.intake_rejection is not None:
            assert row.intake_rejection.message


@FUZZ
@given(data=st.binary(max_size=400), suffix=st.sampled_from([".csv", ".jsonl", ".parquet"]))
def test_readers_on_arbitrary_bytes(data: bytes, suffix: str) -> None:
    _read(suffix, data)


@FUZZ
@given(body=CSV_PIECES, newline=st.sampled_from(["\n", "\r", "\r\n"]))
def test_csv_reader_on_request_like_text(body: str, newline: str) -> None:
    text = HEADER + newline + body
    result = _read(".csv", text.encode("utf-8", "surrogatepass"))
    if result is not None:
        assert all(r.row_number >= 1 for r in result.requests)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                max_size=3),
    max_leaves=10)
JSON_ROWS = st.dictionaries(st.sampled_from(REQUEST_COLUMNS), JSON_VALUES, max_size=8)


@FUZZ
@given(rows=st.lists(st.one_of(JSON_ROWS, JSON_VALUES), min_size=1, max_size=6),
       newline=st.sampled_from(["\n", "\r", "\r\n"]))
def test_jsonl_reader_on_arbitrary_json(rows: list[Any], newline: str) -> None:
    text = newline.join(json.dumps(r, ensure_ascii=bool(len(rows) % 2)) for r in rows)
    _read(".jsonl", text.encode("utf-8", "surrogatepass"))


MANIFEST_FIELDS = list(Manifest.model_fields)


@FUZZ
@given(data=st.binary(max_size=300), suffix=st.sampled_from([".toml", ".json"]))
def test_manifest_on_arbitrary_bytes(data: bytes, suffix: str) -> None:
    _manifest(suffix, data)


@FUZZ
@given(obj=st.dictionaries(st.sampled_from([*MANIFEST_FIELDS, "extra"]), JSON_VALUES,
                           max_size=8))
def test_manifest_on_arbitrary_json_objects(obj: dict[str, Any]) -> None:
    manifest = _manifest(".json", json.dumps(obj).encode())
    if manifest is not None:
        for name in MANIFEST_FIELDS:
            value = manifest.value(name)
            assert value is None or not _UNSTORABLE.search(value)


def _manifest(suffix: str, data: bytes) -> Manifest | None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"manifest{suffix}"
        path.write_bytes(data)
        try:
            return load_manifest(path)
        except ManifestError as exc:
            assert exc.message and exc.status == 422
            return None


FIELD_TEXT = st.one_of(st.none(), st.text(max_size=40),
                       st.sampled_from(["Maria", "Garcia Lopez", "1980-02-03", "123-45-6789",
                                        "2022;2023", "12 Oak St", "Boston", "MA", "02134",
                                        "A123456789", "8 U.S.C. 1253(a)(1)", "\u0420aul",
                                        "Ma\u200bria", "\u202eNAMOR"]))


@FUZZ
@given(values=st.fixed_dictionaries({c: FIELD_TEXT for c in REQUEST_COLUMNS}))
def test_gate_on_arbitrary_rows(values: dict[str, str | None]) -> None:
    """build_row, then the gate, the dedupe key and standardization: rejections or nothing,
    never an exception."""
    row = build_row(1, values)
    for rejection in check_request(row.fields, MANIFEST, AGREEMENT, today=TODAY):
        assert rejection.message and rejection.code
    assert dedupe_key(row.fields)
    standardize_record(row.fields)
