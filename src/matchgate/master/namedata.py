"""Embedded vocabularies of the synthetic population: names, streets, states and ZIP codes.

Every vocabulary is loaded once (cached) and held as arrays, so that the generator draws indices
with NumPy and turns them into strings with PyArrow, never looping over rows.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np
import pyarrow as pa
import zipcodes
from nicknames import NickNamer

# Ethnic groups used to draw surnames, given names and household composition.
GROUPS: tuple[str, ...] = ("general", "hispanic", "african_american", "asian", "other")
GENERAL, HISPANIC, AFRICAN_AMERICAN, ASIAN, OTHER = range(5)
SEXES: tuple[str, ...] = ("F", "M")

STREET_TYPES: tuple[tuple[str, str], ...] = (
    ("ST", "STREET"), ("AVE", "AVENUE"), ("RD", "ROAD"), ("DR", "DRIVE"), ("LN", "LANE"),
    ("BLVD", "BOULEVARD"), ("CT", "COURT"), ("WAY", "WAY"), ("PL", "PLACE"), ("CIR", "CIRCLE"),
    ("TER", "TERRACE"), ("PKWY", "PARKWAY"), ("TRL", "TRAIL"), ("HWY", "HIGHWAY"),
    ("LOOP", "LOOP"), ("SQ", "SQUARE"),
)
STREET_TYPE_WEIGHTS = np.array([30, 22, 14, 12, 8, 4, 6, 3, 3, 3, 2, 2, 2, 1, 1, 1], float)
DIRECTIONS: tuple[tuple[str, str], ...] = (
    ("N", "NORTH"), ("S", "SOUTH"), ("E", "EAST"), ("W", "WEST"),
    ("NE", "NORTHEAST"), ("NW", "NORTHWEST"), ("SE", "SOUTHEAST"), ("SW", "SOUTHWEST"),
)
DIRECTION_WEIGHTS = np.array([25, 25, 20, 20, 2.5, 2.5, 2.5, 2.5])


def _data_lines(name: str) -> list[str]:
    text = resources.files("matchgate.master").joinpath("data").joinpath(name).read_text("utf-8")
    return [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


def zipf_weights(n: int, exponent: float = 0.9, offset: float = 10.0) -> np.ndarray:
    """Probabilities for ranks 1..n with a long tail: p(r) proportional to 1 / (r + offset)^s."""
    w = 1.0 / (np.arange(1, n + 1) + offset) ** exponent
    return w / w.sum()


@dataclass(frozen=True)
class Pool:
    """Indices into a vocabulary and the probability of drawing each."""

    idx: np.ndarray
    p: np.ndarray

    def draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        if n == 0:
            return np.empty(0, np.int32)
        return self.idx[rng.choice(len(self.idx), size=n, p=self.p)].astype(np.int32)


@dataclass(frozen=True)
class Surnames:
    names: pa.Array            # every surname, listed and composed ("tail")
    lists: dict[str, Pool]     # general, hispanic, african_american, asian, other, tail


@cache
def surnames() -> Surnames:
    names: list[str] = []
    lists: dict[str, Pool] = {}
    for key in GROUPS:
        words = _unique(_data_lines(f"surnames_{key}.txt"))
        lists[key] = Pool(np.arange(len(names), len(names) + len(words)),
                          zipf_weights(len(words)))
        names.extend(words)
    stems, endings = _tail_pieces()
    tail = _unique([s + e for s in stems for e in endings])
    tail = [t for t in tail if t not in set(names)]
    lists["tail"] = Pool(np.arange(len(names), len(names) + len(tail)),
                         zipf_weights(len(tail), exponent=0.5, offset=50))
    names.extend(tail)
    return Surnames(pa.array(names, pa.string()), lists)


def _tail_pieces() -> tuple[list[str], list[str]]:
    section: dict[str, list[str]] = {"stems": [], "endings": []}
    current = "stems"
    for line in _data_lines("surname_tail.txt"):
        if line.startswith("["):
            current = line.strip("[]")
        else:
            section[current].append(line)
    return section["stems"], section["endings"]


@dataclass(frozen=True)
class GivenNames:
    names: pa.Array
    sex: np.ndarray                      # 0 F, 1 M per name
    pools: dict[tuple[int, int], Pool]   # (sex, group) -> pool
    nick_offsets: np.ndarray             # nicknames of name i: nick_flat[off[i]:off[i+1]]
    nick_flat: pa.Array


@cache
def given_names() -> GivenNames:
    path = resources.files("matchgate.master").joinpath("data").joinpath("given_names.csv")
    with path.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    names = [r["name"] for r in rows]
    sex = np.array([SEXES.index(r["sex"]) for r in rows], np.int8)
    group = np.array([GROUPS.index(r["group"]) for r in rows], np.int8)
    pools = {}
    for s in range(2):
        for g in range(len(GROUPS)):
            idx = np.flatnonzero((sex == s) & (group == g))
            pools[(s, g)] = Pool(idx, zipf_weights(len(idx), exponent=0.85, offset=6))
    offsets, flat = _nicknames(names)
    return GivenNames(pa.array(names, pa.string()), sex, pools, offsets, flat)


def _nicknames(names: list[str]) -> tuple[np.ndarray, pa.Array]:
    namer = NickNamer()
    flat: list[str] = []
    offsets = [0]
    for name in names:
        nicks = sorted(n.upper() for n in namer.nicknames_of(name.lower())
                       if n.isalpha() and len(n) > 1 and n.upper() != name)
        flat.extend(nicks)
        offsets.append(len(flat))
    return np.array(offsets, np.int64), pa.array(flat, pa.string())


@dataclass(frozen=True)
class Streets:
    names: pa.Array
    pool: Pool


def _ordinal(n: int) -> str:
    suffix = "TH" if 10 <= n % 100 <= 20 else {1: "ST", 2: "ND", 3: "RD"}.get(n % 10, "TH")
    return f"{n}{suffix}"


@cache
def streets() -> Streets:
    named = _unique(_data_lines("street_names.txt"))
    numbered = [_ordinal(n) for n in range(1, 121)]
    names = named + numbered
    p = np.concatenate([0.8 * zipf_weights(len(named), 0.8, 5),
                        0.2 * zipf_weights(len(numbered), 1.1, 1)])
    return Streets(pa.array(names, pa.string()), Pool(np.arange(len(names)), p / p.sum()))


@dataclass(frozen=True)
class Geography:
    """States with their population weights and group mix, and their STANDARD ZIP codes."""

    states: pa.Array           # two-letter codes
    state_p: np.ndarray        # population share
    group_p: np.ndarray        # (state, group) probabilities
    zips: pa.Array             # five digits
    zip_state: np.ndarray      # state index per ZIP
    cities: pa.Array           # upper-case city per ZIP
    alias: pa.Array            # an alternative accepted city name per ZIP, or null
    start: np.ndarray          # ZIPs of state s are start[s]:start[s]+count[s]
    count: np.ndarray

    def draw_zip(self, rng: np.random.Generator, state: np.ndarray) -> np.ndarray:
        u = rng.random(len(state))
        return (self.start[state] + (u * self.count[state]).astype(np.int64)).astype(np.int32)

    def draw_state(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.choice(len(self.state_p), size=n, p=self.state_p).astype(np.int16)


@cache
def geography() -> Geography:
    path = resources.files("matchgate.master").joinpath("data").joinpath("states.csv")
    with path.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    codes = [r["state"] for r in rows]
    pop = np.array([float(r["population_thousands"]) for r in rows])
    hisp, black, asian = (np.array([float(r[k]) for r in rows])
                          for k in ("hispanic_share", "black_share", "asian_share"))
    other = np.full(len(rows), 0.05)
    group_p = np.column_stack([1 - hisp - black - asian - other, hisp, black, asian, other])
    records = sorted(
        (codes.index(z["state"]), z["zip_code"], z["city"].upper(),
         next((c.upper() for c in z["acceptable_cities"] if c), None))
        for z in zipcodes.list_all()
        if z["zip_code_type"] == "STANDARD" and z["active"] and z["state"] in codes
    )
    zip_state = np.array([r[0] for r in records], np.int16)
    count = np.bincount(zip_state, minlength=len(codes))
    start = np.concatenate([[0], np.cumsum(count)[:-1]])
    return Geography(
        states=pa.array(codes, pa.string()), state_p=pop / pop.sum(), group_p=group_p,
        zips=pa.array([r[1] for r in records], pa.string()), zip_state=zip_state,
        cities=pa.array([r[2] for r in records], pa.string()),
        alias=pa.array([r[3] for r in records], pa.string()), start=start, count=count,
    )
