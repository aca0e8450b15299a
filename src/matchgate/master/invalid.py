"""Requests that must be rejected, one defect each: the placeholder addresses and missing legal
elements that passed the real process unchecked (DOMAIN.md), plus duplicates within a batch.

The kind names are the rejection reasons of matchgate.codes where one exists."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from matchgate.master.namedata import geography
from matchgate.master.render import STR, join, place_columns, street_line, take, where
from matchgate.master.residences import Residences

PLACEHOLDERS = ("Failed to Provide", "Unknown Address", "NA NA", "Don't Care 12345", "N/A",
                "UNKNOWN", "Homeless", "FAILED TO PROVIDE", "NONE", "No Address")
PO_BOXES = ("PO BOX", "P.O. BOX", "POB", "PO Box", "Post Office Box")
# Detention facilities: name, city, state, ZIP (real ZIPs of those cities; no street address).
FACILITIES = (
    ("ADELANTO ICE PROCESSING CENTER", "ADELANTO", "CA", "92301"),
    ("STEWART DETENTION CENTER", "LUMPKIN", "GA", "31815"),
    ("SOUTH TEXAS ICE PROCESSING CENTER", "PEARSALL", "TX", "78061"),
    ("OTAY MESA DETENTION CENTER", "SAN DIEGO", "CA", "92154"),
    ("KROME NORTH SERVICE PROCESSING CENTER", "MIAMI", "FL", "33194"),
    ("NORTHWEST ICE PROCESSING CENTER", "TACOMA", "WA", "98421"),
    ("ELOY DETENTION CENTER", "ELOY", "AZ", "85131"),
    ("OTERO COUNTY PROCESSING CENTER", "CHAPARRAL", "NM", "88081"),
    ("HARRIS COUNTY JAIL", "HOUSTON", "TX", "77002"),
    ("COOK COUNTY JAIL", "CHICAGO", "IL", "60608"),
    ("RIKERS ISLAND", "EAST ELMHURST", "NY", "11370"),
    ("LASALLE ICE PROCESSING CENTER", "JENA", "LA", "71342"),
)
BAD_DOB_TAILS = ("-02-30", "-13-01", "-00-15", "-04-31", "-02-31")
BAD_DOB_WHOLE = ("UNKNOWN", "0000-00-00", "99/99/9999", "N/A")
VAGUE_REASONS = ("N/A", "Investigation", "law enforcement purposes", "See attached", "TBD",
                 "immigration")

Columns = dict[str, pa.Array]


def pick(rng: np.random.Generator, options: tuple[str, ...], n: int) -> pa.Array:
    return take(pa.array(options, STR), rng.integers(0, len(options), n))


def digits(rng: np.random.Generator, width: int, n: int, low: int = 0) -> pa.Array:
    values = pa.array(rng.integers(low, 10 ** width, n))
    return pc.utf8_lpad(pc.cast(values, STR), width, "0")


def _null(n: int) -> pa.Array:
    return pa.nulls(n, STR)


def _placeholder(rng: np.random.Generator, a: Residences, n: int) -> Columns:
    return {"street": pick(rng, PLACEHOLDERS, n), "unit": _null(n)}


def _zip_invalid(rng: np.random.Generator, a: Residences, n: int) -> Columns:
    return {"zip": pick(rng, ("00000", "00000", "00000", "99999", "1234"), n)}


def _zip_state_mismatch(rng: np.random.Generator, a: Residences, n: int) -> Columns:
    geo = geography()
    state = geo.zip_state[a.zip]
    other = (state + rng.integers(1, len(geo.state_p), n)) % len(geo.state_p)
    return {"zip": place_columns(geo.draw_zip(rng, other))["zip"]}


def _no_house_number(rng: np.random.Generator, a: Residences, n: int) -> Columns:
    return {"street": street_line(a, house=False)}


def _missing(rng: np.random.Generator, a: Residences, n: int) -> Columns:
    return {k: _null(n) for k in ("street", "unit", "city", "state", "zip")}


def _po_box(rng: np.random.Generator, a: Residences, n: int) -> Columns:
    number = pc.cast(pa.array(np.floor(10 ** rng.uniform(0, 4.5, n)).astype(np.int64)), STR)
    return {"street": join(pick(rng, PO_BOXES, n), number), "unit": _null(n)}


def _jail(rng: np.random.Generator, a: Residences, n: int) -> Columns:
    which = rng.integers(0, len(FACILITIES), n)
    cols = {k: take(pa.array([f[i] for f in FACILITIES], STR), which)
            for i, k in enumerate(("street", "city", "state", "zip"))}
    return {**cols, "unit": _null(n)}


def _bad_dob(rng: np.random.Generator, a: Residences, n: int) -> Columns:
    year = pc.cast(pa.array(rng.integers(1940, 2006, n)), STR)
    partial = join(year, pick(rng, BAD_DOB_TAILS, n), sep="")
    return {"date_of_birth": where(rng.random(n) < 0.7, partial, pick(rng, BAD_DOB_WHOLE, n))}


def _bad_tin(rng: np.random.Generator, a: Residences, n: int) -> Columns:
    area, group, serial = digits(rng, 3, n, 1), digits(rng, 2, n, 1), digits(rng, 4, n, 1)
    kind = rng.integers(0, 6, n)
    area = where(kind == 0, "000", where(kind == 1, "666", area))
    group = where(kind == 2, "00", group)
    serial = where(kind == 3, "0000", serial)
    itin = join(pa.scalar("9", STR), digits(rng, 2, n), sep="")
    area = where(kind == 4, itin, area)
    group = where(kind == 4, pick(rng, ("40", "66", "89", "93"), n), group)
    tin = join(area, group, serial, sep="-")
    return {"tin": where(kind == 5, digits(rng, 5, n), tin)}


def _bad_order_date(rng: np.random.Generator, a: Residences, n: int) -> Columns:
    future = join(pc.cast(pa.array(rng.integers(2027, 2032, n)), STR), digits(rng, 1, n, 1),
                  digits(rng, 1, n, 1), sep="-0")
    return {"order_date": where(rng.random(n) < 0.7, future, "2024-02-30")}


def _bad_case(rng: np.random.Generator, a: Residences, n: int) -> Columns:
    kind = rng.integers(0, 4, n)
    short = join(pa.scalar("A", STR), digits(rng, 5, n), sep="")
    bare = digits(rng, 9, n)
    worded = join(pa.scalar("CASE", STR), digits(rng, 4, n), sep="-")
    long = join(pa.scalar("A", STR), digits(rng, 9, n), pa.scalar("X", STR), sep="")
    return {"case_number": where(kind == 0, short, where(kind == 1, bare,
                                                         where(kind == 2, worded, long)))}


def _drop(column: str) -> Callable[[np.random.Generator, Residences, int], Columns]:
    return lambda rng, a, n: {column: _null(n)}


DUPLICATE = "duplicate_in_batch"
DEFECTS: dict[str, Callable[[np.random.Generator, Residences, int], Columns]] = {
    "address_placeholder": _placeholder,
    "zip_invalid": _zip_invalid,
    "zip_state_mismatch": _zip_state_mismatch,
    "address_no_house_number": _no_house_number,
    "address_missing": _missing,
    "address_po_box": _po_box,
    "address_jail": _jail,
    "missing_case_number": _drop("case_number"),
    "missing_order_date": _drop("order_date"),
    "missing_statutory_authority": _drop("statutory_authority"),
    "missing_reason": _drop("reason"),
    "missing_tax_periods": _drop("tax_periods"),
    "invalid_date_of_birth": _bad_dob,
    "invalid_tin": _bad_tin,
    "invalid_order_date": _bad_order_date,
    "reason_too_vague": lambda rng, a, n: {"reason": pick(rng, VAGUE_REASONS, n)},
    "invalid_case_number": _bad_case,
}
INVALID_KINDS: tuple[str, ...] = (*DEFECTS, DUPLICATE)


def apply_defects(rng: np.random.Generator, cols: Columns, addr: Residences,
                  kind: np.ndarray) -> Columns:
    """Give row i the defect DEFECTS[kind[i]] (kind -1: leave the row as it is)."""
    out = dict(cols)
    n = len(kind)
    for k, make in enumerate(DEFECTS.values()):
        mask = kind == k
        if not mask.any():
            continue
        rows = np.flatnonzero(mask)
        changed = make(rng, addr.take(rows), len(rows))
        pos = np.full(n, -1)
        pos[rows] = np.arange(len(rows))
        for col, values in changed.items():
            out[col] = where(mask, take(values, pos), out[col])
    return out
