"""People in households, as arrays of vocabulary indices: who they are, where they lived, when
they filed. Households share a surname and an address; fathers and sons share a name (SR/JR);
twins share a date of birth; households move between tax years."""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from matchgate.master.namedata import (
    AFRICAN_AMERICAN,
    ASIAN,
    GENERAL,
    GROUPS,
    HISPANIC,
    OTHER,
    given_names,
    surnames,
)
from matchgate.master.residences import Residences

SUFFIXES = ("", "JR", "SR", "II", "III", "IV")
JR, SR, II, III = 1, 2, 3, 4
YEARS = (2021, 2022, 2023, 2024)
REFERENCE_DAY = int(np.datetime64("2024-12-31", "D").astype(np.int64))
DAYS_PER_YEAR = 365.25
HEAD, SPOUSE, CHILD = 0, 1, 2

HOUSEHOLD_SIZE_P = np.array([0.37, 0.34, 0.14, 0.10, 0.04, 0.01])  # sizes 1..6
# Name list a given name is drawn from, by the person's group (columns follow GROUPS).
GIVEN_NAME_MIX = np.array([
    [0.96, 0.01, 0.01, 0.00, 0.02],
    [0.25, 0.75, 0.00, 0.00, 0.00],
    [0.55, 0.02, 0.43, 0.00, 0.00],
    [0.50, 0.00, 0.00, 0.50, 0.00],
    [0.45, 0.02, 0.00, 0.00, 0.53],
])
MIDDLE_P = np.array([0.82, 0.55, 0.75, 0.45, 0.40])
ITIN_P = np.array([0.012, 0.17, 0.012, 0.06, 0.08])
# Surname sources by group: (list name, share).
SURNAME_MIX: dict[int, tuple[tuple[str, float], ...]] = {
    GENERAL: (("general", 0.70), ("tail", 0.30)),
    HISPANIC: (("hispanic", 1.0),),
    AFRICAN_AMERICAN: (("general", 0.50), ("african_american", 0.30), ("tail", 0.20)),
    ASIAN: (("asian", 1.0),),
    OTHER: (("other", 0.65), ("tail", 0.35)),
}


@dataclass
class People:
    """One element per person; `slot[:, y]` is the residence slot in tax year YEARS[y]."""

    hh: np.ndarray           # household id
    role: np.ndarray         # HEAD, SPOUSE or CHILD
    sex: np.ndarray          # 0 F, 1 M
    group: np.ndarray        # index into GROUPS
    first: np.ndarray        # index into given_names().names
    middle: np.ndarray       # index, -1 when none
    middle_initial: np.ndarray  # the master file holds only the initial
    last1: np.ndarray        # index into surnames().names
    last2: np.ndarray        # second surname of a compound, -1 when none
    hyphen: np.ndarray       # compound written with a hyphen
    suffix: np.ndarray       # index into SUFFIXES
    accent: np.ndarray       # the master file keeps accents
    dob: np.ndarray          # days since 1970-01-01
    itin: np.ndarray         # files with an ITIN
    tin: np.ndarray          # nine-digit integer, 0 until assigned
    years: np.ndarray        # (n, 4) tax years filed
    slot: np.ndarray         # (n, 4) residence slot per tax year
    res: Residences          # (n, 3) the household's residences

    def __len__(self) -> int:
        return len(self.hh)

    def take(self, idx: np.ndarray) -> People:
        values = {f.name: getattr(self, f.name)[idx] for f in fields(self) if f.name != "res"}
        return People(**values, res=self.res.take(idx))


def categorical(rng: np.random.Generator, p: np.ndarray) -> np.ndarray:
    """One category per row of the probability matrix p (rows sum to 1)."""
    cum = np.cumsum(p, axis=1)[:, :-1]
    return (rng.random(len(p))[:, None] >= cum).sum(axis=1).astype(np.int8)


def household_sizes(rng: np.random.Generator, n: int) -> np.ndarray:
    if n == 0:
        return np.zeros(0, np.int64)
    sizes = rng.choice(np.arange(1, 7), size=n // 2 + 8, p=HOUSEHOLD_SIZE_P)
    while sizes.sum() < n:
        sizes = np.concatenate([sizes, rng.choice(np.arange(1, 7), size=n // 4 + 8,
                                                  p=HOUSEHOLD_SIZE_P)])
    cut = int(np.searchsorted(np.cumsum(sizes), n))
    sizes = sizes[:cut + 1].copy()
    sizes[-1] -= sizes.sum() - n
    return sizes


def draw_given(rng: np.random.Generator, sex: np.ndarray, group: np.ndarray) -> np.ndarray:
    names = given_names()
    source = categorical(rng, GIVEN_NAME_MIX[group])
    out = np.empty(len(sex), np.int32)
    for s in (0, 1):
        for g in range(len(GROUPS)):
            mask = (sex == s) & (source == g)
            out[mask] = names.pools[(s, g)].draw(rng, int(mask.sum()))
    return out


def draw_surname(rng: np.random.Generator, group: np.ndarray) -> np.ndarray:
    pools = surnames().lists
    out = np.empty(len(group), np.int32)
    u = rng.random(len(group))
    for g, mix in SURNAME_MIX.items():
        lo = 0.0
        for name, share in mix:
            mask = (group == g) & (u >= lo) & (u < lo + share + (1e-9 if share == 1 else 0))
            out[mask] = pools[name].draw(rng, int(mask.sum()))
            lo += share
    return out


def draw_middle(rng: np.random.Generator, sex: np.ndarray, group: np.ndarray,
                first: np.ndarray) -> np.ndarray:
    middle = draw_given(rng, sex, group)
    present = (rng.random(len(sex)) < MIDDLE_P[group]) & (middle != first)
    return np.where(present, middle, -1).astype(np.int32)


def compound_second(rng: np.random.Generator, group: np.ndarray, last1: np.ndarray,
                    share: float = 0.42) -> np.ndarray:
    """A second (maternal) surname for about `share` of Hispanic people, else -1."""
    second = surnames().lists["hispanic"].draw(rng, len(group))
    has = (group == HISPANIC) & (rng.random(len(group)) < share) & (second != last1)
    return np.where(has, second, -1).astype(np.int32)
