"""Column-wide text noise: typing errors and case, on whole arrays at once."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

_S = np.dtypes.StringDType()
TYPO_KINDS = ("swap", "drop", "double")


def to_numpy(arr: pa.Array) -> np.ndarray:
    return np.array(pc.fill_null(arr, "").to_pylist(), dtype=_S)


def typo(arr: pa.Array, rng: np.random.Generator, mask: np.ndarray) -> tuple[pa.Array, np.ndarray]:
    """Swap two neighbouring letters, drop one or double one, in strings under `mask` that have
    at least three characters. Returns the new array and where a typo was made."""
    text = to_numpy(arr)
    length = np.strings.str_len(text)
    hit = mask & (length >= 3)
    n = len(text)
    pos = 1 + np.floor(rng.random(n) * np.maximum(length - 2, 1)).astype(np.int64)
    kind = rng.integers(0, len(TYPO_KINDS), n)
    head = np.strings.slice(text, np.zeros(n, np.int64), pos)
    c1 = np.strings.slice(text, pos, pos + 1)
    c2 = np.strings.slice(text, pos + 1, pos + 2)
    tail = np.strings.slice(text, pos + 2, np.maximum(length, pos + 2))
    swapped = head + c2 + c1 + tail
    dropped = head + c2 + tail
    doubled = head + c1 + c1 + c2 + tail
    out = np.where(kind == 0, swapped, np.where(kind == 1, dropped, doubled))
    hit &= out != text
    result = pa.array(np.where(hit, out, text).tolist(), pa.string())
    return pc.if_else(pc.is_null(arr), arr, result), hit


def apply_case(arr: pa.Array, case: np.ndarray) -> pa.Array:
    """case 0: as is (upper), 1: Title Case, 2: lower case."""
    title, lower = pa.array(case == 1), pa.array(case == 2)
    return pc.if_else(title, pc.utf8_title(arr), pc.if_else(lower, pc.utf8_lower(arr), arr))
