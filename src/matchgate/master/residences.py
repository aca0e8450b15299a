"""Residential addresses as vocabulary indices: three per household (now, before, earlier)."""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from matchgate.master.namedata import (
    DIRECTION_WEIGHTS,
    STREET_TYPE_WEIGHTS,
    geography,
    streets,
)

SLOTS = 3  # slot 0 is the latest residence, 1 the one before, 2 the one before that
UNIT_KINDS = ("", "APT", "UNIT", "#", "STE")  # index 0: no unit
UNIT_KIND_P = np.array([0.0, 0.64, 0.16, 0.14, 0.06])


@dataclass
class Residences:
    """Address parts as parallel arrays; every array has the same leading shape."""

    house: np.ndarray        # house number
    street: np.ndarray       # index into streets().names
    stype: np.ndarray        # index into STREET_TYPES
    predir: np.ndarray       # index into DIRECTIONS, -1 when none
    postdir: np.ndarray      # index into DIRECTIONS, -1 when none
    unit_kind: np.ndarray    # index into UNIT_KINDS (0: no unit)
    unit_num: np.ndarray     # 0 when the unit has only a letter
    unit_letter: np.ndarray  # 0-25, -1 when none
    zip: np.ndarray          # index into geography().zips
    type_full: np.ndarray    # street type written in full
    dir_full: np.ndarray     # directions written in full

    def take(self, idx: np.ndarray | tuple[np.ndarray, ...]) -> Residences:
        return Residences(**{f.name: getattr(self, f.name)[idx] for f in fields(self)})

    def put(self, mask: np.ndarray, other: Residences) -> Residences:
        """A copy with the elements under `mask` replaced by `other` (same shape as mask.sum())."""
        out = {}
        for f in fields(self):
            arr = getattr(self, f.name).copy()
            arr[mask] = getattr(other, f.name)
            out[f.name] = arr
        return Residences(**out)


def draw_addresses(rng: np.random.Generator, zip_idx: np.ndarray,
                   unit_p: float = 0.28) -> Residences:
    """New street addresses within the given ZIP codes (any shape)."""
    shape = zip_idx.shape
    n = int(np.prod(shape))
    house = np.floor(10 ** rng.uniform(0.0, 4.35, n)).astype(np.int32)
    has_pre = rng.random(n) < 0.16
    has_post = ~has_pre & (rng.random(n) < 0.04)
    n_dir = len(DIRECTION_WEIGHTS)
    predir = np.where(has_pre, rng.choice(n_dir, n, p=DIRECTION_WEIGHTS / DIRECTION_WEIGHTS.sum()),
                      -1)
    postdir = np.where(has_post, rng.choice(n_dir, n, p=DIRECTION_WEIGHTS /
                                            DIRECTION_WEIGHTS.sum()), -1)
    has_unit = rng.random(n) < unit_p
    kind = np.where(has_unit, rng.choice(len(UNIT_KINDS), n, p=UNIT_KIND_P), 0)
    letter_only = rng.random(n) < 0.12
    unit_num = np.where(letter_only, 0, np.floor(10 ** rng.uniform(0.0, 3.0, n)))
    has_letter = letter_only | (rng.random(n) < 0.22)
    unit_letter = np.where(has_letter, rng.integers(0, 8, n), -1)
    res = Residences(
        house=house,
        street=streets().pool.draw(rng, n),
        stype=rng.choice(len(STREET_TYPE_WEIGHTS), n,
                         p=STREET_TYPE_WEIGHTS / STREET_TYPE_WEIGHTS.sum()).astype(np.int8),
        predir=predir.astype(np.int8), postdir=postdir.astype(np.int8),
        unit_kind=kind.astype(np.int8), unit_num=unit_num.astype(np.int16),
        unit_letter=unit_letter.astype(np.int8), zip=zip_idx.reshape(n).astype(np.int32),
        type_full=rng.random(n) < 0.12, dir_full=rng.random(n) < 0.12,
    )
    return Residences(**{f.name: getattr(res, f.name).reshape(shape) for f in fields(res)})


def move_zip(rng: np.random.Generator, zip_idx: np.ndarray, same_zip: float = 0.55,
             same_state: float = 0.30) -> np.ndarray:
    """Where people move to: mostly nearby (same ZIP), often within the state, else anywhere."""
    geo = geography()
    r = rng.random(len(zip_idx))
    state = geo.zip_state[zip_idx]
    state = np.where(r < same_zip + same_state, state, geo.draw_state(rng, len(zip_idx)))
    return np.where(r < same_zip, zip_idx, geo.draw_zip(rng, state)).astype(np.int32)


def household_residences(rng: np.random.Generator, k: int) -> Residences:
    """Three successive residences for each of k households, shape (k, SLOTS)."""
    geo = geography()
    zips = np.empty((k, SLOTS), np.int32)
    zips[:, 0] = geo.draw_zip(rng, geo.draw_state(rng, k))
    for slot in range(1, SLOTS):
        zips[:, slot] = move_zip(rng, zips[:, slot - 1])
    return draw_addresses(rng, zips)
