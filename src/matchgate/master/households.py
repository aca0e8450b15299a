"""Households of taxpayers: couples, single parents, adult children, JR living with SR, twins,
and households that moved between tax years."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from matchgate.master.namedata import ASIAN, HISPANIC, geography
from matchgate.master.population import (
    CHILD,
    DAYS_PER_YEAR,
    HEAD,
    II,
    III,
    ITIN_P,
    JR,
    REFERENCE_DAY,
    SPOUSE,
    SR,
    YEARS,
    People,
    categorical,
    compound_second,
    draw_given,
    draw_middle,
    draw_surname,
    household_sizes,
)
from matchgate.master.residences import household_residences


@dataclass
class Layout:
    """Who belongs to which household, and in which role."""

    sizes: np.ndarray    # per household
    start: np.ndarray    # index of the head, per household
    hh: np.ndarray       # household of each person
    role: np.ndarray
    couple: np.ndarray   # per household

    @property
    def head(self) -> np.ndarray:
        """Index of each person's household head."""
        return self.start[self.hh]


def layout(rng: np.random.Generator, n: int) -> Layout:
    sizes = household_sizes(rng, n)
    start = np.cumsum(sizes) - sizes
    hh = np.repeat(np.arange(len(sizes)), sizes)
    pos = np.arange(n) - start[hh]
    couple = (sizes >= 2) & (rng.random(len(sizes)) < 0.78)
    role = np.where(pos == 0, HEAD, np.where((pos == 1) & couple[hh], SPOUSE, CHILD))
    return Layout(sizes, start, hh, role.astype(np.int8), couple)


def ages(rng: np.random.Generator, lay: Layout) -> np.ndarray:
    """Age in years at the end of 2024; children are 15 or older (they file their own return)."""
    k = len(lay.sizes)
    has_child = lay.sizes - 1 - lay.couple > 0
    head = np.clip(rng.normal(47, 16, k), 19, 95)
    head = np.where(has_child, np.maximum(head, 36 + rng.uniform(0, 14, k)), head)
    head_p = head[lay.hh]
    spouse = np.clip(head_p + rng.normal(-1.5, 4, len(lay.hh)), 18, 99)
    child = 15 + rng.random(len(lay.hh)) * np.maximum(head_p - 19 - 15, 1)
    return np.select([lay.role == HEAD, lay.role == SPOUSE], [head_p, spouse], child)


def birth_dates(rng: np.random.Generator, lay: Layout, age: np.ndarray) -> np.ndarray:
    dob = (REFERENCE_DAY - age * DAYS_PER_YEAR).astype(np.int32)
    # twins: the second child takes the first child's date of birth
    first_child = lay.start + 1 + lay.couple
    twins = (lay.sizes >= first_child - lay.start + 2) & (rng.random(len(lay.sizes)) < 0.08)
    dob[first_child[twins] + 1] = dob[first_child[twins]]
    return dob


def sexes_and_groups(rng: np.random.Generator, lay: Layout,
                     state: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    geo = geography()
    n = len(lay.hh)
    hh_group = categorical(rng, geo.group_p[state])
    group = hh_group[lay.hh]
    national = categorical(rng, np.tile(geo.group_p.T @ geo.state_p, (n, 1)))
    group = np.where((lay.role == SPOUSE) & (rng.random(n) < 0.12), national, group)
    sex = rng.integers(0, 2, n).astype(np.int8)
    head_sex = sex[lay.head]
    sex = np.where((lay.role == SPOUSE) & (rng.random(n) < 0.96), 1 - head_sex, sex)
    return sex.astype(np.int8), group.astype(np.int8)


def household_surnames(rng: np.random.Generator, lay: Layout, group: np.ndarray,
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Surnames: the head's; the spouse's own or the head's; the children's from their parents
    (Hispanic children often carry the father's first and the mother's first surname)."""
    n = len(group)
    own1 = draw_surname(rng, group)
    own2 = compound_second(rng, group, own1)
    head = lay.head
    spouse = lay.role == SPOUSE
    keeps_own = spouse & (rng.random(n) < np.where(group == HISPANIC, 0.6, 0.25))
    takes = (lay.role != HEAD) & ~keeps_own
    last1 = np.where(takes, own1[head], own1)
    last2 = np.where(takes, own2[head], own2)
    # a spouse who joins both names with a hyphen (SMITH-JONES)
    double = spouse & ~keeps_own & (last2 < 0) & (group != HISPANIC) & (rng.random(n) < 0.05)
    last2 = np.where(double, last1, last2)
    last1 = np.where(double, own1, last1)
    hyphen = (last2 >= 0) & ((rng.random(n) < 0.15) | double)
    hyphen = np.where(takes & ~double, hyphen[head], hyphen)
    # Hispanic children of a couple where the mother kept her surname: father's + mother's
    spouse_idx = np.where(lay.couple[lay.hh], head + 1, head)
    mixed = ((lay.role == CHILD) & keeps_own[spouse_idx] & (group == HISPANIC)
             & (rng.random(n) < 0.6))
    last2 = np.where(mixed, last1[spouse_idx], last2)
    hyphen = np.where(mixed, False, hyphen)
    return last1.astype(np.int32), last2.astype(np.int32), hyphen


def suffixes(rng: np.random.Generator, lay: Layout, sex: np.ndarray, group: np.ndarray,
             first: np.ndarray, middle: np.ndarray) -> np.ndarray:
    """JR/SR pairs: a son named after his father, living with him; a few lone suffixes."""
    n = len(sex)
    suffix = np.zeros(n, np.int8)
    lone = (sex == 1) & (lay.role != CHILD)
    r = rng.random(n)
    suffix[lone & (r < 0.025)] = JR
    suffix[lone & (r >= 0.025) & (r < 0.031)] = III
    suffix[lone & (r >= 0.031) & (r < 0.035)] = II
    sons = np.flatnonzero((lay.role == CHILD) & (sex == 1))
    hh_of_son, first_pos = np.unique(lay.hh[sons], return_index=True)
    son = sons[first_pos]
    father = lay.start[hh_of_son]
    pair = (sex[father] == 1) & (group[father] != ASIAN) & (rng.random(len(son)) < 0.2)
    son, father = son[pair], father[pair]
    first[son], middle[son] = first[father], middle[father]
    father_is_jr = rng.random(len(son)) < 0.15
    suffix[son] = np.where(father_is_jr, III, JR)
    named_sr = rng.random(len(son)) < 0.45
    suffix[father] = np.where(father_is_jr, JR, np.where(named_sr, SR, 0))
    return suffix


def filing_years(rng: np.random.Generator, age: np.ndarray) -> np.ndarray:
    """(n, 4) tax years filed: a contiguous run, mostly to 2024; the young start late."""
    n = len(age)
    start = rng.choice(4, size=n, p=[0.74, 0.1, 0.09, 0.07])
    first_possible = np.clip(np.floor(YEARS[-1] - age + 16).astype(int) - YEARS[0], 0, 3)
    start = np.maximum(start, first_possible)
    stops_early = rng.random(n) < 0.08
    end = np.where(stops_early, start + np.floor(rng.random(n) * (3 - start + 1)), 3)
    end = np.minimum(end, 3).astype(int)
    y = np.arange(4)
    return (y[None, :] >= start[:, None]) & (y[None, :] <= end[:, None])


def move_slots(rng: np.random.Generator, k: int) -> np.ndarray:
    """(k, 4) residence slot per tax year: 0 the latest, 1 and 2 earlier (after moves)."""
    moves = rng.choice(3, size=k, p=[0.68, 0.25, 0.07])
    one = rng.choice(np.array([2022, 2023, 2024]), size=k)
    pairs = np.array([[2022, 2023], [2022, 2024], [2023, 2024]])[rng.integers(0, 3, k)]
    recent = np.select([moves == 1, moves == 2], [one, pairs[:, 1]], 0)
    earlier = np.where(moves == 2, pairs[:, 0], 0)
    y = np.array(YEARS)[None, :]
    return ((y < recent[:, None]).astype(np.int8) + (y < earlier[:, None]).astype(np.int8))


def generate_households(rng: np.random.Generator, n: int, hh_offset: int = 0) -> People:
    """Exactly n people in households (TINs left at 0: assign them with TinPools)."""
    lay = layout(rng, n)
    k = len(lay.sizes)
    res = household_residences(rng, k)
    sex, group = sexes_and_groups(rng, lay, geography().zip_state[res.zip[:, 0]])
    age = ages(rng, lay)
    first = draw_given(rng, sex, group)
    middle = draw_middle(rng, sex, group, first)
    last1, last2, hyphen = household_surnames(rng, lay, group)
    suffix = suffixes(rng, lay, sex, group, first, middle)
    itin = rng.random(n) < ITIN_P[group]
    return People(
        hh=(lay.hh + hh_offset).astype(np.int64), role=lay.role, sex=sex, group=group,
        first=first, middle=middle, middle_initial=rng.random(n) < 0.15, last1=last1,
        last2=last2, hyphen=hyphen, suffix=suffix, accent=rng.random(n) < 0.25,
        dob=birth_dates(rng, lay, age), itin=itin, tin=np.zeros(n, np.int64),
        years=filing_years(rng, age), slot=move_slots(rng, k)[lay.hh],
        res=res.take(lay.hh),
    )
