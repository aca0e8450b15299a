"""Stable sorting of 64-bit hashes, for the key index of tens of millions of master rows.

`np.argsort(kind="stable")` of 33 million 64-bit values is a timsort: some 5 seconds, once per
blocking rule and once more to group a taxpayer's alike rows, a minute of a 10-million master
load. `np.sort` of the same values is ten times faster (vectorised), but gives no permutation.
So the permutation rides in the values' low bits: each value's high bits with its index below
them are sorted as one number, and the index is read back. Values that share their high bits
then stand in index order rather than by their low bits (at 33 million random hashes, a few
thousand such neighbours); those few groups alone are sorted again, by value and then index.
The result is exactly np.argsort(values, kind="stable").
"""

from __future__ import annotations

import numpy as np

from matchgate.match.ranges import expand


def stable_order(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(np.argsort(values, kind="stable"), values in that order) for unsigned 64-bit values."""
    values = np.asarray(values, dtype=np.uint64)
    n = len(values)
    if n < 2:
        return np.arange(n, dtype=np.int64), values.copy()
    bits = int(n - 1).bit_length()
    low = np.uint64((1 << bits) - 1)
    packed = values & ~low
    packed |= np.arange(n, dtype=np.uint64)
    packed.sort()
    order = (packed & low).astype(np.int64)
    del packed
    ordered = values[order]
    _mend_shared_high_bits(order, ordered, low)
    return order, ordered


def _mend_shared_high_bits(order: np.ndarray, ordered: np.ndarray, low: np.uint64) -> None:
    """Sort again, in place, the runs of values with equal high bits that are out of order
    (within such a run the values stand in index order, so a descent can only be inside
    one)."""
    descents = np.flatnonzero(ordered[1:] < ordered[:-1])
    if len(descents) == 0:
        return
    high = ordered & ~low
    runs = np.unique(high[descents])
    starts = np.searchsorted(high, runs, side="left")
    ends = np.searchsorted(high, runs, side="right")
    _, slots = expand(starts, ends)
    # the runs lie in ascending order of their high bits: one sort of all their slots by value,
    # then index, sorts each run within its own slots
    resorted = np.lexsort((order[slots], ordered[slots]))
    order[slots] = order[slots][resorted]
    ordered[slots] = ordered[slots][resorted]
