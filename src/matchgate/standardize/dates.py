"""Dates of birth and TINs.

Accepted dates: ISO (YYYY-MM-DD, with or without a time after it), YYYYMMDD, MM/DD/YYYY and
M/D/YYYY (also with dashes or dots), and M/D/YY. A two-digit year is read as the latest year
ending in those digits that is not after the reference year (default: this year), because a date
of birth is never in the future: with 2026 as reference, "01/02/26" is 2026 and "01/02/27" is
1927. Day-first forms are not accepted: 03/04/1990 is March 4. Impossible dates give None.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from functools import lru_cache

from matchgate.standardize.text import to_text

_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ].*)?$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_US = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4}|\d{2})$")


def _build(year: int, month: int, day: int) -> str | None:
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return None


def _full_year(two_digits: int, reference_year: int) -> int:
    year = reference_year - reference_year % 100 + two_digits
    return year if year <= reference_year else year - 100


@lru_cache(maxsize=65536)
def _parse(text: str, reference_year: int) -> str | None:
    if m := _ISO.match(text):
        return _build(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    if m := _COMPACT.match(text):
        return _build(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    if m := _US.match(text):
        year_text = m.group(3)
        year = int(year_text)
        if len(year_text) == 2:
            year = _full_year(year, reference_year)
        return _build(year, int(m.group(1)), int(m.group(2)))
    return None


def standardize_dob(value: object, reference_year: int | None = None) -> str | None:
    """"YYYY-MM-DD" or None for a missing, unreadable or impossible date."""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    text = to_text(value)
    if text is None:
        return None
    return _parse(text, reference_year or date.today().year)


def standardize_tin(value: object) -> str | None:
    """Nine digits once dashes and spaces are removed; anything else is None."""
    text = to_text(value)
    if text is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        text = str(value).zfill(9)
    compact = text.replace("-", "").replace(" ", "")
    return compact if len(compact) == 9 and compact.isdigit() and compact.isascii() else None
