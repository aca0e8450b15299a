"""Parsing and validity of the identifying values of a request: dates, TINs, tax periods,
statutory citations and case numbers. Pure functions."""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache

_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ][\d:.+\-Z]*)?$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_US = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4}|\d{2})$")
_TIN_SEPARATORS = re.compile(r"[\s\-]")
_YEAR_RANGE = re.compile(r"^(\d{4})\s*-\s*(\d{4})$")
_PERIOD_SPLIT = re.compile(r"[;,|/\s]+")
_SECTION_WORDS = re.compile(r"\b(SECTION|SECT|SEC)\b")
_CITATION_NOISE = re.compile(r"[^A-Z0-9()]")

ITIN_GROUPS = frozenset([*range(50, 66), *range(70, 89), *range(90, 93), *range(94, 100)])
MAX_AGE_YEARS = 125
TAX_PERIOD_SPAN_YEARS = 60


def parse_date(text: str, *, today: date) -> date | None:
    """ISO (YYYY-MM-DD), YYYYMMDD, or month-first US dates (MM/DD/YYYY, M/D/YY; a two-digit year
    is the latest such year not after today). None when unreadable or impossible."""
    text = text.strip()
    m = _ISO.match(text) or _COMPACT.match(text)
    if m:
        year, month, day = int(m.group(1)), int(m.group(2)), int(m.group(3))
    elif m := _US.match(text):
        month, day, year = int(m.group(1)), int(m.group(2)), int(m.group(3))
        if len(m.group(3)) == 2:
            year += today.year - today.year % 100
            if year > today.year:
                year -= 100
    else:
        return None
    try:
        return date(year, month, day)
    except ValueError:
        return None


@lru_cache(maxsize=65536)
def dob_problem(text: str, *, today: date) -> str | None:
    """Why a date of birth is not valid, or None when it is."""
    born = parse_date(text, today=today)
    if born is None:
        return f"'{text}' is not a valid date"
    if born > today:
        return f"{born} is in the future"
    if today.year - born.year > MAX_AGE_YEARS:
        return f"{born} is more than {MAX_AGE_YEARS} years ago"
    return None


@lru_cache(maxsize=65536)
def past_date_problem(text: str, *, today: date, earliest: date = date(1950, 1, 1)
                      ) -> str | None:
    """Why an order date is not a valid past date, or None when it is."""
    when = parse_date(text, today=today)
    if when is None:
        return f"'{text}' is not a valid date"
    if when > today:
        return f"{when} is in the future"
    if when < earliest:
        return f"{when} is before {earliest}"
    return None


def tin_digits(text: str) -> str | None:
    compact = _TIN_SEPARATORS.sub("", text)
    return compact if len(compact) == 9 and compact.isascii() and compact.isdigit() else None


def tin_problem(text: str) -> str | None:
    """Why a TIN is not a valid SSN or ITIN, or None when it is.

    SSN: area not 000, 666 or 900-999; group not 00; serial not 0000.
    ITIN: area 900-999, group 50-65, 70-88, 90-92 or 94-99; serial not 0000."""
    digits = tin_digits(text)
    if digits is None:
        return "a TIN has nine digits (dashes and spaces allowed)"
    area, group, serial = int(digits[:3]), int(digits[3:5]), int(digits[5:])
    if serial == 0:
        return "the serial number 0000 is never issued"
    if area >= 900:
        if group not in ITIN_GROUPS:
            return f"an ITIN's middle digits are 50-65, 70-88, 90-92 or 94-99, not {group:02d}"
        return None
    if area in (0, 666):
        return f"SSN area {area:03d} is never issued"
    if group == 0:
        return "SSN group 00 is never issued"
    return None


def tax_years(text: str) -> list[int] | None:
    """The years of a tax-period list ("2022;2023", "2021-2023", "2022, 2023"); None when any
    part is not a year."""
    years: list[int] = []
    for part in _PERIOD_SPLIT.split(text.strip()):
        if not part:
            continue
        if m := _YEAR_RANGE.match(part):
            lo, hi = int(m.group(1)), int(m.group(2))
            if hi < lo or hi - lo > TAX_PERIOD_SPAN_YEARS:
                return None
            years.extend(range(lo, hi + 1))
        elif part.isascii() and part.isdigit() and len(part) == 4:
            years.append(int(part))
        else:
            return None
    return years or None


@lru_cache(maxsize=65536)
def tax_periods_problem(text: str, *, today: date) -> str | None:
    years = tax_years(text.replace(" - ", "-"))
    if years is None:
        return f"'{text}' is not a list of tax years such as 2022;2023"
    earliest = today.year - TAX_PERIOD_SPAN_YEARS
    bad = sorted({y for y in years if not earliest <= y <= today.year})
    if bad:
        return (f"{', '.join(map(str, bad))} outside {earliest}-{today.year}")
    return None


@lru_cache(maxsize=65536)
def citation_key(text: str) -> str:
    """A statutory citation reduced for comparison: "8 USC § 1253(a)(1)" and
    "8 U.S.C. 1253(a)(1)" give the same key."""
    upper = _SECTION_WORDS.sub("", text.upper().replace("\u00a7", " "))
    return _CITATION_NOISE.sub("", upper)


@lru_cache(maxsize=65536)
def case_number_key(text: str) -> str:
    """A case number as compared with the agreement's pattern: upper case, without the spaces
    and hyphens that A-numbers are often written with (A-123-456-789)."""
    return re.sub(r"[\s\-]", "", text.upper())
