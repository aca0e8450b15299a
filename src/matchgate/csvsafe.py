"""Writing CSV that a spreadsheet cannot turn into live formulas.

A cell is live when its text (after any leading spaces) starts with = + - @ or their full-width
forms, or with a tab, carriage return or line feed: such a cell gets a leading apostrophe, which
spreadsheets show as text and never evaluate. Numbers are written as numbers. Every CSV matchgate
writes goes through here: the response file, the decision export, the accounting export, the
master file's rejects and the API's CSV answers."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

_FORMULA_START = ("=", "+", "-", "@", "\uff1d", "\uff0b", "\uff0d", "\uff20")
_CONTROL_START = ("\t", "\r", "\n")


def is_live(text: str) -> bool:
    """Whether a spreadsheet could read this cell as a formula."""
    return text.startswith(_CONTROL_START) or text.lstrip(" ").startswith(_FORMULA_START)


_LIVE_START = _FORMULA_START + _CONTROL_START


def neutralize(value: object) -> str:
    """A cell value as text; text that a spreadsheet would read as a formula gets a leading '."""
    if value is None:
        return ""
    if type(value) is str:  # is_live without a call, the common case (no leading space)
        if value.startswith(_LIVE_START) or (value.startswith(" ") and is_live(value)):
            return "'" + value
        return value
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | float):
        return repr(value)
    text = str(value)
    return "'" + text if is_live(text) else text


def _write(fh: Any, columns: Sequence[str], rows: Iterable[Mapping[str, object]]) -> int:
    return _write_cells(fh, columns, ([row.get(c) for c in columns] for row in rows))


def _write_cells(fh: Any, columns: Sequence[str], rows: Iterable[Sequence[object]]) -> int:
    writer = csv.writer(fh)
    writer.writerow([neutralize(c) for c in columns])
    count = 0
    for cells in rows:
        writer.writerow([neutralize(c) for c in cells])
        count += 1
    return count


def write_csv(path: Path, columns: Sequence[str], rows: Iterable[Mapping[str, object]]) -> int:
    """Write rows with exactly these columns; returns the number of rows written."""
    return write_csv_cells(path, columns, ([row.get(c) for c in columns] for row in rows))


def write_csv_cells(path: Path, columns: Sequence[str], rows: Iterable[Sequence[object]]
                    ) -> int:
    """write_csv for rows given as their cells, in the columns' order."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".partial")
    with tmp.open("w", newline="", encoding="utf-8") as fh:
        count = _write_cells(fh, columns, rows)
    tmp.replace(path)
    return count


def csv_text(columns: Sequence[str], rows: Iterable[Mapping[str, object]]) -> str:
    """The same CSV as text (for an HTTP answer)."""
    out = io.StringIO()
    _write(out, columns, rows)
    return out.getvalue()
