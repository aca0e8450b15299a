"""The legal elements of a request under the 2025 agreement (6103(i)(2) plus the removal order)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from matchgate.master.render import STR, iso_dates, join, take

STATUTORY_AUTHORITY = "8 U.S.C. 1253(a)(1)"
TAX_YEARS = (2021, 2022, 2023, 2024)
_PERIODS = pa.array(
    [";".join(str(TAX_YEARS[i]) for i in range(4) if mask >> i & 1)
     for mask in range(16) if bin(mask).count("1") in (2, 3)], STR)
_REASONS = (
    ("Subject of final order of removal in case ",
     "; last known address sought to locate for removal."),
    ("Final order of removal entered in case ",
     "; current residential address needed to execute the order."),
    ("Person subject to a final order of removal (case ",
     ") who has not departed; address sought to locate the subject."),
)
_FIRST_ORDER = int(np.datetime64("1997-04-01", "D").astype(np.int64))
_LAST_ORDER = int(np.datetime64("2025-06-30", "D").astype(np.int64))


def case_numbers(rng: np.random.Generator, n: int) -> pa.Array:
    digits = pc.utf8_lpad(pc.cast(pa.array(rng.integers(0, 1_000_000_000, n)), STR), 9, "0")
    return join(pa.scalar("A", STR), digits, sep="")


def legal_columns(rng: np.random.Generator, n: int) -> dict[str, pa.Array]:
    case = case_numbers(rng, n)
    which = rng.integers(0, len(_REASONS), n)
    pre = take(pa.array([r[0] for r in _REASONS], STR), which)
    post = take(pa.array([r[1] for r in _REASONS], STR), which)
    return {
        "tax_periods": take(_PERIODS, rng.integers(0, len(_PERIODS), n)),
        "case_number": case,
        "order_date": iso_dates(rng.integers(_FIRST_ORDER, _LAST_ORDER + 1, n)),
        "statutory_authority": pa.repeat(pa.scalar(STATUTORY_AUTHORITY, STR), n),
        "reason": join(pre, case, post, sep=""),
    }
