"""Intake: the readers on good and broken files, row-level rejections, and the manifest."""

from __future__ import annotations

import codecs
import json
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from matchgate.columns import REQUEST_COLUMNS
from matchgate.errors import InputError, ManifestError
from matchgate.intake import load_manifest, read_requests
from matchgate.intake.rows import MAX_LENGTH

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data" / "requests"


def test_good_csv() -> None:
    result = read_requests(DATA / "good.csv")
    assert result.format == "csv"
    assert [r.request_id for r in result.requests] == ["R-001", "R-002"]
    first = result.requests[0]
    assert first.row_number == 1 and first.intake_rejection is None
    assert set(first.fields) == set(REQUEST_COLUMNS)
    assert first.fields["suffix"] is None  # empty string -> None
    assert first.fields["reason"] is not None and first.fields["reason"].startswith("Final")
    assert result.requests[1].fields["last_name"] == "O'Brien"


def test_bom_is_accepted_and_header_is_clean() -> None:
    result = read_requests(DATA / "bom.csv")
    assert result.requests[0].request_id == "R-001"
    assert result.requests[0].fields["first_name"] == "Maria"


@pytest.mark.parametrize(("name", "fragment"), [
    ("latin1.csv", "offset"),
    ("utf16.csv", "UTF-16"),
    ("empty.csv", "empty"),
    ("header_only.csv", "no requests"),
    ("unknown_column.csv", "unknown column 'nickname'"),
    ("missing_zip_column.csv", "required column 'zip'"),
    ("good.txt", "unknown format"),
    ("absent.csv", "does not exist"),
    ("unknown_key.jsonl", "unknown field 'alias'"),
])
def test_file_level_problems_raise_input_error(name: str, fragment: str) -> None:
    with pytest.raises(InputError) as info:
        read_requests(DATA / name)
    text = str(info.value)
    assert fragment in text
    assert name in text


def test_latin1_names_row_and_byte() -> None:
    with pytest.raises(InputError) as info:
        read_requests(DATA / "latin1.csv")
    problem = info.value.problems[0]
    assert problem.row == 2  # line 2 of the file: the first request
    offset = (DATA / "latin1.csv").read_bytes().index(bytes([0xED]))
    assert f"offset {offset}" in problem.message


def test_utf16_without_bom_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "u16.csv"
    path.write_bytes((DATA / "good.csv").read_text(encoding="utf-8").encode("utf-16-le"))
    with pytest.raises(InputError, match="UTF-16"):
        read_requests(path)
    path.write_bytes(codecs.BOM_UTF32_LE + "a".encode("utf-32-le"))
    with pytest.raises(InputError, match="UTF-32"):
        read_requests(path)


def test_ragged_rows_become_rejected_requests_not_dropped() -> None:
    rows = read_requests(DATA / "ragged.csv").requests
    assert len(rows) == 4
    ok, few, many, no_id = rows
    assert ok.intake_rejection is None
    assert few.request_id == "R-002" and few.intake_rejection is not None
    assert few.intake_rejection.reason == "row_malformed"
    assert "row 2" in few.intake_rejection.message and "too few" in few.intake_rejection.message
    assert many.intake_rejection is not None and "too many" in many.intake_rejection.message
    assert no_id.request_id == "row-4" and no_id.request_id_synthesised
    assert no_id.intake_rejection is not None
    assert no_id.intake_rejection.reason == "missing_request_id"
    assert no_id.intake_rejection.field == "request_id"


def test_field_over_length_limit_rejects_the_row(tmp_path: Path) -> None:
    header = ",".join(REQUEST_COLUMNS)
    row = ["X1", "Ann", "", "Lee" * 100] + [""] * (len(REQUEST_COLUMNS) - 4)
    path = tmp_path / "long.csv"
    path.write_text(f"{header}\n{','.join(row)}\n", encoding="utf-8")
    (r,) = read_requests(path).requests
    assert r.intake_rejection is not None and r.intake_rejection.reason == "field_too_long"
    assert r.intake_rejection.field == "last_name"
    assert "row 1" in r.intake_rejection.message
    assert len(r.fields["last_name"] or "") == MAX_LENGTH["last_name"]



def test_a_value_cut_at_its_limit_keeps_no_trailing_space(tmp_path: Path) -> None:
    """Found by the fuzzer: a value cut where a space falls stays stripped like every value."""
    header = ",".join(REQUEST_COLUMNS)
    limit = MAX_LENGTH["last_name"]
    long_name = "L" * (limit - 1) + " " + "x" * 20
    row = ["X1", "Ann", "", long_name] + [""] * (len(REQUEST_COLUMNS) - 4)
    path = tmp_path / "long.csv"
    path.write_text(f"{header}\n{','.join(row)}\n", encoding="utf-8")
    (r,) = read_requests(path).requests
    assert r.intake_rejection is not None and r.intake_rejection.reason == "field_too_long"
    assert r.fields["last_name"] == "L" * (limit - 1)

def test_repeated_request_id_is_renamed_and_rejected(tmp_path: Path) -> None:
    text = (DATA / "good.csv").read_text(encoding="utf-8").replace("R-002", "R-001")
    path = tmp_path / "dup.csv"
    path.write_text(text, encoding="utf-8")
    first, second = read_requests(path).requests
    assert first.request_id == "R-001" and first.intake_rejection is None
    assert second.request_id == "R-001#row-2"
    assert second.intake_rejection is not None
    assert second.intake_rejection.reason == "duplicate_request_id"


def test_whitespace_stripped_and_header_case_insensitive(tmp_path: Path) -> None:
    header = ",".join(c.upper() if i % 2 else f" {c} " for i, c in enumerate(REQUEST_COLUMNS))
    row = ["  X1 ", " Ann  ", "   "] + [""] * (len(REQUEST_COLUMNS) - 3)
    path = tmp_path / "ws.csv"
    path.write_text(f"{header}\n{','.join(row)}\n", encoding="utf-8")
    (r,) = read_requests(path).requests
    assert r.request_id == "X1" and r.fields["first_name"] == "Ann"
    assert r.fields["middle_name"] is None


def test_jsonl_good() -> None:
    result = read_requests(DATA / "good.jsonl")
    assert result.format == "jsonl"
    first, second = result.requests
    assert first.fields["tax_periods"] == "2022;2023"
    assert second.fields["zip"] == "19901" and second.row_number == 3  # line 2 is blank


def test_jsonl_non_object_lines_are_rejected_rows() -> None:
    rows = read_requests(DATA / "non_object.jsonl").requests
    assert [r.row_number for r in rows] == [1, 2, 3, 4]
    assert rows[0].intake_rejection is None
    for r, fragment in zip(rows[1:], ("list, not an object", "not valid JSON", "dict"),
                           strict=True):
        assert r.intake_rejection is not None
        assert r.intake_rejection.reason == "row_malformed"
        assert fragment in r.intake_rejection.message
        assert f"row {r.row_number}" in r.intake_rejection.message
    assert rows[1].request_id == "row-2"


def test_jsonl_numbers_keep_leading_zeros(tmp_path: Path) -> None:
    path = tmp_path / "n.jsonl"
    obj = {"request_id": 7, "first_name": "A", "last_name": "B", "street": "1 Elm St",
           "city": "Boston", "state": "MA", "zip": 2134, "tin": 12345678, "unit": True}
    path.write_text(json.dumps(obj) + "\n", encoding="utf-8")
    (r,) = read_requests(path).requests
    assert r.request_id == "7" and r.fields["zip"] == "02134" and r.fields["tin"] == "012345678"
    assert r.intake_rejection is not None and "'unit' is true/false" in r.intake_rejection.message


def _write_parquet(path: Path, columns: dict[str, pa.Array]) -> Path:
    pq.write_table(pa.table(columns), path)
    return path


def test_parquet_with_ints_dates_and_lists(tmp_path: Path) -> None:
    path = _write_parquet(tmp_path / "r.parquet", {
        "request_id": pa.array(["P1", "P2"]),
        "first_name": pa.array(["Ann", "Bo"]),
        "last_name": pa.array(["Lee", "Diaz"]),
        "street": pa.array(["5 Oak Ave", "9 Pine Rd"]),
        "city": pa.array(["Boston", "Dover"]),
        "state": pa.array(["MA", "DE"]),
        "zip": pa.array([2134, 19901], pa.int64()),
        "date_of_birth": pa.array([date(1980, 1, 2), None], pa.date32()),
        "tax_periods": pa.array([[2022, 2023], [2024]], pa.list_(pa.int32())),
        "order_date": pa.array([20240102.0, 1.5]),
    })
    result = read_requests(path)
    first, second = result.requests
    assert result.format == "parquet"
    assert first.fields["zip"] == "02134" and first.fields["date_of_birth"] == "1980-01-02"
    assert first.fields["tax_periods"] == "2022;2023" and first.intake_rejection is None
    assert first.fields["order_date"] == "20240102"
    assert second.intake_rejection is not None
    assert "order_date" in second.intake_rejection.message


@pytest.mark.parametrize(("columns", "fragment"), [
    ({"request_id": pa.array(["P1"]), "first_name": pa.array([True])}, "type bool"),
    ({"request_id": pa.array(["P1"]), "zip": None}, "required column 'zip'"),
    ({"request_id": pa.array(["P1"]), "first_name": pa.array(["A"]), "alias": pa.array(["x"])},
     "unknown column 'alias'"),
])
def test_parquet_file_level_problems(tmp_path: Path, columns: dict, fragment: str) -> None:
    base = {c: pa.array(["x"] * len(next(iter(columns.values())))) for c in
            ("first_name", "last_name", "street", "city", "state", "zip")}
    base.update(columns)
    base = {k: v for k, v in base.items() if v is not None}
    path = _write_parquet(tmp_path / "bad.parquet", base)
    with pytest.raises(InputError, match=fragment):
        read_requests(path)


def test_parquet_empty_and_corrupt(tmp_path: Path) -> None:
    cols = {c: pa.array([], pa.string()) for c in
            ("request_id", "first_name", "last_name", "street", "city", "state", "zip")}
    with pytest.raises(InputError, match="empty batch"):
        read_requests(_write_parquet(tmp_path / "empty.parquet", cols))
    junk = tmp_path / "junk.parquet"
    junk.write_bytes(b"not parquet at all")
    with pytest.raises(InputError, match="not a readable Parquet"):
        read_requests(junk)


# -- manifest ---------------------------------------------------------------------------------

def test_example_manifests() -> None:
    m = load_manifest(ROOT / "examples" / "manifest.toml")
    assert m.legal_basis == "6103(i)(2)" and m.certification and "1253(a)(1)" in m.certification
    c = load_manifest(ROOT / "examples" / "manifest-court-order.toml")
    assert c.order_date == date(2025, 6, 12) and c.court and c.docket
    assert c.value("order_date") == "2025-06-12"


def test_manifest_json(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    path.write_text(json.dumps({"agreement_id": "A", "legal_basis": "6103(i)(2)",
                                "requesting_official": "Director", "certification": "x"}))
    assert load_manifest(path).requesting_official == "Director"


def test_manifest_lists_every_problem(tmp_path: Path) -> None:
    path = tmp_path / "m.toml"
    path.write_text('legal_basis = 5\ncertificaton = "typo"\norder_date = "soon"\n')
    with pytest.raises(ManifestError) as info:
        load_manifest(path)
    fields = {p.field for p in info.value.problems}
    assert fields == {"agreement_id", "legal_basis", "requesting_official", "certificaton",
                      "order_date"}


@pytest.mark.parametrize(("name", "content", "fragment"), [
    ("m.yaml", "a: 1", "unknown extension"),
    ("m.toml", "a = ", "not valid TOML"),
    ("m.json", "[1, 2]", "object"),
    ("m.json", "{", "not valid JSON"),
])
def test_manifest_file_problems(tmp_path: Path, name: str, content: str, fragment: str) -> None:
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(ManifestError, match=fragment):
        load_manifest(path)
    with pytest.raises(ManifestError, match="cannot read"):
        load_manifest(tmp_path / "absent.toml")
