"""The request batch and its ground truth: who is in the master file, who is not, what is
invalid, and what noise each request carries."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from matchgate.columns import REQUEST_COLUMNS, TRUTH_COLUMNS
from matchgate.master.invalid import DEFECTS, DUPLICATE, INVALID_KINDS, apply_defects
from matchgate.master.legal import legal_columns
from matchgate.master.population import People
from matchgate.master.render import STR, join, take, tin_strings, where
from matchgate.master.request_noise import request_columns
from matchgate.master.subjects import (
    Subjects,
    concat_subjects,
    fresh,
    in_master,
    junior,
    junior_eligible,
    namesake,
    new_tenant,
    same_household,
)

CATEGORIES = ("in_master", "not_in_master", "invalid")
# People not in the master file, and their shares among those requests.
OUTSIDERS: tuple[tuple[str, float], ...] = (
    ("fresh", 0.45), ("same_household", 0.20), ("namesake", 0.20), ("new_tenant", 0.08),
    ("junior", 0.07),
)


def split(total: int, shares: list[float]) -> list[int]:
    """Whole counts in the given proportions that add up to total exactly."""
    cum = np.round(np.cumsum([0.0, *shares]) / sum(shares) * total).astype(int)
    return [int(x) for x in np.diff(cum)]


@dataclass(frozen=True)
class RequestPlan:
    """How many requests of each kind, and how many people each part needs."""

    in_master: int
    outsiders: dict[str, int]
    invalid_kinds: np.ndarray     # index into INVALID_KINDS per invalid request
    invalid_from_master: int      # invalid requests built on a taxpayer
    invalid_fresh: int            # invalid requests built on a non-filer

    @property
    def valid(self) -> int:
        return self.in_master + sum(self.outsiders.values())

    @property
    def hard_bases(self) -> int:
        """Taxpayers that outsiders are modelled on (extra for juniors: few qualify)."""
        o = self.outsiders
        return o["same_household"] + o["namesake"] + o["new_tenant"] + 4 * o["junior"]

    @property
    def fresh_people(self) -> int:
        return sum(self.outsiders.values()) + self.invalid_fresh


def request_counts(requests: int, in_master_share: float,
                   invalid_share: float) -> tuple[int, int, int]:
    """(invalid, valid, in master) request counts."""
    n_invalid = round(requests * invalid_share)
    n_valid = requests - n_invalid
    return n_invalid, n_valid, round(n_valid * in_master_share)


def plan_requests(rng: np.random.Generator, *, requests: int, taxpayers: int,
                  in_master_share: float, invalid_share: float) -> RequestPlan:
    n_invalid, n_valid, n_in = request_counts(requests, in_master_share, invalid_share)
    kinds = [k for k in range(len(INVALID_KINDS)) if n_valid or INVALID_KINDS[k] != DUPLICATE]
    invalid_kinds = rng.permutation(np.array(kinds)[np.arange(n_invalid) % len(kinds)])
    n_defect = int((invalid_kinds != INVALID_KINDS.index(DUPLICATE)).sum())
    from_master = min(n_defect // 2, taxpayers - n_in)
    outsiders = dict(zip([k for k, _ in OUTSIDERS],
                         split(n_valid - n_in, [s for _, s in OUTSIDERS]), strict=True))
    if taxpayers == 0:
        outsiders = {k: 0 for k in outsiders}
        outsiders["fresh"] = n_valid - n_in
    return RequestPlan(n_in, outsiders, invalid_kinds, from_master, n_defect - from_master)


@dataclass
class Bases:
    """The people the requests are built on (numeric form, TINs assigned)."""

    in_master: People      # plan.in_master taxpayers
    invalid: People        # plan.invalid_from_master taxpayers
    hard: People           # plan.hard_bases taxpayers (with replacement)
    fresh: People          # plan.fresh_people non-filers


def outsider_subjects(rng: np.random.Generator, plan: RequestPlan, b: Bases) -> Subjects:
    o = plan.outsiders
    f = iter(np.split(np.arange(sum(o.values())), np.cumsum(list(o.values()))[:-1]))
    fresh_of = {k: b.fresh.take(next(f)) for k in o}
    h = np.cumsum([0, o["same_household"], o["namesake"], o["new_tenant"]])
    hard = [b.hard.take(np.arange(h[i], h[i + 1])) for i in range(3)]
    pool = b.hard.take(np.arange(h[3], len(b.hard)))
    eligible = np.flatnonzero(junior_eligible(pool))[:o["junior"]]
    fallback = np.flatnonzero(~junior_eligible(pool))[:o["junior"] - len(eligible)]
    jr_new = fresh_of["junior"]
    parts = [
        fresh(fresh_of["fresh"]),
        same_household(rng, hard[0], fresh_of["same_household"]),
        namesake(rng, hard[1], fresh_of["namesake"]),
        new_tenant(rng, fresh_of["new_tenant"], hard[2]),
        junior(rng, pool.take(eligible), jr_new.take(np.arange(len(eligible)))),
        namesake(rng, pool.take(fallback), jr_new.take(np.arange(len(eligible), len(jr_new)))),
    ]
    return concat_subjects(parts)


def variation_text(s: Subjects, kind: pa.Array) -> pa.Array:
    """"kind;token;token", or "exact" for a valid request with no noise at all."""
    parts = [where(mask, name, None) for name, mask in s.tokens.items() if mask.any()]
    text = join(kind, *parts, sep=";")
    return pc.if_else(pc.equal(text, ""), pa.scalar("exact", STR), text)


def build_requests(rng: np.random.Generator, plan: RequestPlan,
                   b: Bases) -> tuple[pa.Table, pa.Table]:
    """The request file and its truth, in batch order."""
    n_inv_base = plan.invalid_from_master + plan.invalid_fresh
    subjects = concat_subjects([
        in_master(rng, b.in_master), outsider_subjects(rng, plan, b),
        in_master(rng, b.invalid),
        fresh(b.fresh.take(np.arange(len(b.fresh) - plan.invalid_fresh, len(b.fresh)))),
    ])
    n = len(subjects)
    category = np.repeat([0, 1, 2], [plan.in_master, plan.valid - plan.in_master, n_inv_base])
    defect = np.full(n, -1)
    defect[plan.valid:] = plan.invalid_kinds[plan.invalid_kinds < len(DEFECTS)]
    cols = {**request_columns(rng, subjects), **legal_columns(rng, n)}
    cols = apply_defects(rng, cols, subjects.addr, defect)
    kind = take(pa.array(INVALID_KINDS, STR), defect)
    variation = variation_text(subjects, kind)
    true_tin = where(subjects.true_tin > 0, tin_strings(subjects.true_tin), None)
    return _order(rng, plan, cols, true_tin, category, variation)


def _order(rng: np.random.Generator, plan: RequestPlan, cols: dict[str, pa.Array],
           true_tin: pa.Array, category: np.ndarray,
           variation: pa.Array) -> tuple[pa.Table, pa.Table]:
    """Shuffle, add exact duplicates after their originals, number the requests."""
    n = len(category)
    n_dup = int((plan.invalid_kinds == INVALID_KINDS.index(DUPLICATE)).sum())
    original = rng.choice(plan.valid, size=n_dup, replace=n_dup > plan.valid) if n_dup else \
        np.zeros(0, np.int64)
    key = rng.permutation(n).astype(float)
    dup_key = key[original] + 0.5 + rng.random(n_dup) * (n - key[original])
    rows = np.concatenate([np.arange(n), original])
    order = np.argsort(np.concatenate([key, dup_key]), kind="stable")
    rows = rows[order]
    is_dup = np.concatenate([np.zeros(n, bool), np.ones(n_dup, bool)])[order]
    ids = join(pa.scalar("R", STR), pc.utf8_lpad(pc.cast(pa.array(np.arange(1, len(rows) + 1)),
                                                         STR), 7, "0"), sep="")
    first_pos = np.empty(n, np.int64)
    first_pos[rows[~is_dup]] = np.flatnonzero(~is_dup)
    of = join(pa.scalar(DUPLICATE + ";of", STR), take(ids, first_pos[rows]), sep="=")
    idx = pa.array(rows)
    requests = pa.table({c: ids if c == "request_id" else cols[c].take(idx)
                         for c in REQUEST_COLUMNS})
    truth_cols = {
        "request_id": ids, "true_tin": true_tin.take(idx),
        "category": take(pa.array(CATEGORIES, STR), np.where(is_dup, 2, category[rows])),
        "variation": where(is_dup, of, variation.take(idx)),
    }
    return requests, pa.table([truth_cols[c] for c in TRUTH_COLUMNS], names=list(TRUTH_COLUMNS))
