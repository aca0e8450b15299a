"""hashsort.stable_order is np.argsort(kind="stable"), on any unsigned 64-bit values."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from matchgate.match.hashsort import stable_order


def _check(values: np.ndarray) -> None:
    order, ordered = stable_order(values)
    expected = np.argsort(values, kind="stable")
    assert order.dtype == np.int64
    assert order.tolist() == expected.tolist()
    assert ordered.tolist() == values[expected].tolist()


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(0, 2**64 - 1), max_size=200))
def test_any_values(values: list[int]) -> None:
    _check(np.array(values, dtype=np.uint64))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(0, 7), max_size=200), st.integers(0, 2**64 - 8))
def test_values_that_differ_only_in_their_low_bits(low: list[int], base: int) -> None:
    """All share their high bits: the one run is sorted again whole."""
    _check(np.array([base + v for v in low], dtype=np.uint64))


def test_many_runs_and_ties() -> None:
    """A million values in clusters that share their high bits, with repeats: every run with
    a descent is mended, the others are left in index order."""
    rng = np.random.default_rng(7)
    high = rng.integers(0, 2**40, 200_000, dtype=np.uint64) << np.uint64(24)
    values = rng.choice(high, 1_000_000) | rng.integers(0, 4, 1_000_000, dtype=np.uint64)
    _check(values)
    _check(rng.integers(0, 2**64, 1_000_000, dtype=np.uint64, endpoint=False))
