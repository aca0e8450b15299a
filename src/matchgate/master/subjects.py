"""The people requests are about: taxpayers from the master file (at their last known or an
older address), and people who are not in it, including hard ones that look like taxpayers."""

from __future__ import annotations

from dataclasses import dataclass, field, fields

import numpy as np

from matchgate.master.population import (
    DAYS_PER_YEAR,
    III,
    JR,
    REFERENCE_DAY,
    People,
    draw_given,
    draw_middle,
)
from matchgate.master.residences import Residences, draw_addresses, move_zip


@dataclass
class Subjects:
    """Who a request is about and the address the requester has for them."""

    people: People
    addr: Residences
    true_tin: np.ndarray                 # 0 when the person is not in the master file
    tokens: dict[str, np.ndarray] = field(default_factory=dict)
    keep_dob: np.ndarray | None = None   # the requester knows the date of birth for sure

    def __len__(self) -> int:
        return len(self.true_tin)

    def token(self, name: str, mask: np.ndarray) -> None:
        self.tokens[name] = self.tokens.get(name, np.zeros(len(self), bool)) | mask


def concat_people(parts: list[People]) -> People:
    values = {f.name: np.concatenate([getattr(p, f.name) for p in parts])
              for f in fields(People) if f.name != "res"}
    res = {f.name: np.concatenate([getattr(p.res, f.name) for p in parts])
           for f in fields(Residences)}
    return People(**values, res=Residences(**res))


def concat_subjects(parts: list[Subjects]) -> Subjects:
    n = sum(len(p) for p in parts)
    names = list(dict.fromkeys(k for p in parts for k in p.tokens))
    tokens = {k: np.concatenate([p.tokens.get(k, np.zeros(len(p), bool)) for p in parts])
              for k in names}
    keep = np.concatenate([p.keep_dob if p.keep_dob is not None else np.zeros(len(p), bool)
                           for p in parts]) if n else np.zeros(0, bool)
    addr = {f.name: np.concatenate([getattr(p.addr, f.name) for p in parts])
            for f in fields(Residences)}
    return Subjects(concat_people([p.people for p in parts]), Residences(**addr),
                    np.concatenate([p.true_tin for p in parts]), tokens, keep)


def latest_slot(p: People) -> np.ndarray:
    last_year = 3 - np.argmax(p.years[:, ::-1], axis=1)
    return p.slot[np.arange(len(p)), last_year]


def earliest_slot(p: People) -> np.ndarray:
    return p.slot[np.arange(len(p)), np.argmax(p.years, axis=1)]


def new_address_near(rng: np.random.Generator, zip_idx: np.ndarray) -> Residences:
    return draw_addresses(rng, move_zip(rng, zip_idx, same_zip=0.2, same_state=0.5))


def in_master(rng: np.random.Generator, p: People) -> Subjects:
    """Taxpayers: the requester has the last known address, an older one, or one the custodian
    never saw (the person moved after the last return)."""
    n = len(p)
    rows = np.arange(n)
    last, first = latest_slot(p), earliest_slot(p)
    r = rng.random(n)
    older = (first != last) & (r < 0.5)
    unknown = ~older & (r > 0.92)
    addr = p.res.take((rows, np.where(older, first, last)))
    addr = addr.put(unknown, new_address_near(rng, addr.zip[unknown]))
    s = Subjects(p, addr, p.tin.copy())
    s.token("older_address", older)
    s.token("address_unknown", unknown)
    return s


def fresh(p: People, token: str = "fresh") -> Subjects:
    """People who never filed: their own (current) address, unknown to the custodian."""
    s = Subjects(p, p.res.take((np.arange(len(p)), np.zeros(len(p), np.int64))),
                 np.zeros(len(p), np.int64))
    s.token(token, np.ones(len(p), bool))
    return s


def new_tenant(rng: np.random.Generator, newcomer: People, base: People) -> Subjects:
    """A non-filer living at an address where a taxpayer lives or used to live."""
    rows = np.arange(len(base))
    slot = np.where(rng.random(len(base)) < 0.5, latest_slot(base), earliest_slot(base))
    s = fresh(newcomer, "new_tenant")
    s.addr = base.res.take((rows, slot))
    return s


def _relative(base: People, newcomer: People) -> People:
    """newcomer's TIN, sex, names and birth date on base's household and surname."""
    p = base.take(np.arange(len(base)))
    p.tin, p.itin, p.suffix = newcomer.tin, newcomer.itin, np.zeros(len(p), np.int8)
    return p


def same_household(rng: np.random.Generator, base: People, newcomer: People) -> Subjects:
    """Same surname and address as a taxpayer, a different person (a relative who never filed)."""
    p = _relative(base, newcomer)
    p.sex = newcomer.sex
    p.first = draw_given(rng, p.sex, p.group)
    p.middle = draw_middle(rng, p.sex, p.group, p.first)
    age = rng.uniform(16, 85, len(p))
    p.dob = (REFERENCE_DAY - age * DAYS_PER_YEAR).astype(np.int32)
    s = Subjects(p, base.res.take((np.arange(len(p)), latest_slot(base))),
                 np.zeros(len(p), np.int64))
    s.token("same_household", np.ones(len(p), bool))
    return s


def namesake(rng: np.random.Generator, base: People, newcomer: People) -> Subjects:
    """Same name as a taxpayer, another date of birth, living nearby or anywhere."""
    p = _relative(base, newcomer)
    n = len(p)
    p.middle = np.where(rng.random(n) < 0.5, p.middle, draw_middle(rng, p.sex, p.group, p.first))
    shift = (rng.uniform(1, 25, n) * DAYS_PER_YEAR).astype(np.int32)
    older = (rng.random(n) < 0.5) | (p.dob + shift > REFERENCE_DAY - 16 * DAYS_PER_YEAR)
    p.dob = np.where(older, p.dob - shift, p.dob + shift).astype(np.int32)
    home = base.res.take((np.arange(n), latest_slot(base)))
    s = Subjects(p, new_address_near(rng, home.zip), np.zeros(n, np.int64))
    s.token("namesake", np.ones(n, bool))
    return s


def junior(rng: np.random.Generator, base: People, newcomer: People) -> Subjects:
    """A taxpayer's son with his father's name and address, who never filed (JR or III)."""
    p = _relative(base, newcomer)
    n = len(p)
    p.suffix = np.where(base.suffix == JR, III, JR).astype(np.int8)
    gap = rng.uniform(20, 34, n) * DAYS_PER_YEAR
    p.dob = np.minimum(p.dob + gap, REFERENCE_DAY - 16 * DAYS_PER_YEAR).astype(np.int32)
    s = Subjects(p, base.res.take((np.arange(n), latest_slot(base))), np.zeros(n, np.int64))
    s.token("junior", np.ones(n, bool))
    s.keep_dob = np.ones(n, bool)
    return s


def junior_eligible(p: People) -> np.ndarray:
    age = (REFERENCE_DAY - p.dob) / DAYS_PER_YEAR
    return (p.sex == 1) & (age >= 42) & (p.suffix != III)
