"""Unique, valid taxpayer identification numbers (SSN and ITIN), drawn as 9-digit integers.

SSN: area 001-899 except 666, group 01-99, serial 0001-9999.
ITIN: area 900-999, group 50-65, 70-88, 90-92 or 94-99, serial 0001-9999.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

ITIN_GROUPS = np.array([*range(50, 66), *range(70, 89), *range(90, 93), *range(94, 100)])


def _split(tin: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return tin // 1_000_000, (tin // 10_000) % 100, tin % 10_000


def is_valid_ssn(tin: np.ndarray) -> np.ndarray:
    area, group, serial = _split(np.asarray(tin, np.int64))
    return (area > 0) & (area != 666) & (area < 900) & (group > 0) & (serial > 0)


def is_valid_itin(tin: np.ndarray) -> np.ndarray:
    area, group, serial = _split(np.asarray(tin, np.int64))
    return (area >= 900) & (area <= 999) & np.isin(group, ITIN_GROUPS) & (serial > 0)


def _ssn_candidates(rng: np.random.Generator, n: int) -> np.ndarray:
    area = rng.integers(1, 899, n)
    area = area + (area >= 666)
    return area * 1_000_000 + rng.integers(1, 100, n) * 10_000 + rng.integers(1, 10_000, n)


def _itin_candidates(rng: np.random.Generator, n: int) -> np.ndarray:
    area = rng.integers(900, 1000, n)
    group = ITIN_GROUPS[rng.integers(0, len(ITIN_GROUPS), n)]
    return area * 1_000_000 + group * 10_000 + rng.integers(1, 10_000, n)


def unique_draw(rng: np.random.Generator, n: int,
                candidates: Callable[[np.random.Generator, int], np.ndarray]) -> np.ndarray:
    """n distinct values in the order first drawn (deterministic for a given generator)."""
    out = np.empty(0, np.int64)
    while len(out) < n:
        more = np.concatenate([out, candidates(rng, int((n - len(out)) * 1.05) + 16)])
        _, first = np.unique(more, return_index=True)
        out = more[np.sort(first)]
    return out[:n]


@dataclass
class TinPools:
    """Pre-drawn unique SSNs and ITINs, handed out in order so that no TIN is used twice."""

    ssn: np.ndarray
    itin: np.ndarray
    _next_ssn: int = field(default=0)
    _next_itin: int = field(default=0)

    @classmethod
    def draw(cls, rng: np.random.Generator, n_ssn: int, n_itin: int) -> TinPools:
        return cls(unique_draw(rng, n_ssn, _ssn_candidates),
                   unique_draw(rng, n_itin, _itin_candidates))

    def assign(self, itin: np.ndarray) -> np.ndarray:
        """One unused TIN per element: an ITIN where `itin` is true, an SSN elsewhere."""
        tins = np.empty(len(itin), np.int64)
        k_itin, k_ssn = int(itin.sum()), int((~itin).sum())
        if self._next_itin + k_itin > len(self.itin) or self._next_ssn + k_ssn > len(self.ssn):
            raise RuntimeError("TIN pool exhausted")
        tins[itin] = self.itin[self._next_itin:self._next_itin + k_itin]
        tins[~itin] = self.ssn[self._next_ssn:self._next_ssn + k_ssn]
        self._next_itin += k_itin
        self._next_ssn += k_ssn
        return tins
