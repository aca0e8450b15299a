"""Whole records and tables: the entry points used by master loading and intake."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date

import pyarrow as pa

from matchgate.columns import STD_COLUMNS
from matchgate.standardize.addresses import standardize_address
from matchgate.standardize.names import standardize_name

_DIGITS = re.compile(r"\D")


def standardize_dob(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, date):
        return value.isoformat()
    text = str(value).strip()
    try:
        return date.fromisoformat(text[:10]).isoformat()
    except ValueError:
        return None


def standardize_tin(value: object) -> str | None:
    if value is None:
        return None
    digits = _DIGITS.sub("", str(value))
    return digits if len(digits) == 9 else None


def standardize_record(row: Mapping[str, object]) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    out.update(standardize_name(row.get("first_name"), row.get("middle_name"),
                                row.get("last_name"), row.get("suffix")))
    out.update(standardize_address(row.get("street"), row.get("unit"), row.get("city"),
                                   row.get("state"), row.get("zip")))
    out["std_dob"] = standardize_dob(row.get("date_of_birth"))
    out["std_tin"] = standardize_tin(row.get("tin"))
    return out


def standardize_table(table: pa.Table) -> pa.Table:
    rows = table.to_pylist()
    std = [standardize_record(r) for r in rows]
    for col in STD_COLUMNS:
        table = table.append_column(col, pa.array([s[col] for s in std], type=pa.string()))
    return table
