"""How a requesting agency's records differ from the custodian's: nicknames, typos, compound
surnames reordered or cut, accents, middle names and suffixes, street-type and unit spellings,
ZIP+4, case, missing or garbled dates of birth, a TIN now and then.

Every operation is applied to whole columns under a random mask and recorded as a token."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from matchgate.master.namedata import HISPANIC, geography, given_names, streets, surnames
from matchgate.master.population import SUFFIXES
from matchgate.master.render import (
    STR,
    join,
    middle_name,
    place_columns,
    street_line,
    surname,
    take,
    unit_id,
    where,
    with_accents,
)
from matchgate.master.residences import Residences
from matchgate.master.subjects import Subjects
from matchgate.master.textnoise import apply_case, typo

# Unit designators as requesters write them: (designator, separator before the identifier).
UNIT_VARIANTS: tuple[tuple[str, str], ...] = (
    ("APT", " "), ("APARTMENT", " "), ("APT.", " "), ("UNIT", " "), ("#", " "), ("#", ""),
    ("STE", " "), ("SUITE", " "), ("NO.", " "), ("", ""),
)
_SAME_VARIANT = np.array([0, 0, 3, 4, 6])  # the master's own designator, by unit kind


def _nickname(rng: np.random.Generator, first: np.ndarray, mask: np.ndarray,
              ) -> tuple[pa.Array, np.ndarray]:
    names = given_names()
    lo, hi = names.nick_offsets[first], names.nick_offsets[first + 1]
    hit = mask & (hi > lo)
    pick = lo + np.floor(rng.random(len(first)) * np.maximum(hi - lo, 1)).astype(np.int64)
    return take(names.nick_flat, np.where(hit, pick, -1)), hit


def name_columns(rng: np.random.Generator, s: Subjects) -> dict[str, pa.Array]:
    p, n = s.people, len(s)
    r = lambda: rng.random(n)  # noqa: E731
    first = take(given_names().names, p.first)
    nick, nick_hit = _nickname(rng, p.first, r() < 0.12)
    first = pc.if_else(pa.array(nick_hit), nick, first)
    s.token("nickname", nick_hit)

    has_mid = p.middle >= 0
    merged = has_mid & (r() < np.where(p.group == HISPANIC, 0.12, 0.03))
    dropped = has_mid & ~merged & (r() < 0.3)
    initial = has_mid & ~merged & ~dropped & (r() < 0.2)
    middle = middle_name(np.where(dropped | merged, -1, p.middle), initial)
    first = where(merged, join(first, take(given_names().names, p.middle)), first)
    s.token("middle_in_first", merged)
    s.token("middle_dropped", dropped)
    s.token("middle_initial", initial)

    last_name = _surname_noise(rng, s)
    keep = s.keep_dob if s.keep_dob is not None else np.zeros(n, bool)
    suffix_drop = (p.suffix > 0) & ~keep & (r() < 0.4)
    s.token("suffix_dropped", suffix_drop)
    suffix = take(pa.array([x or None for x in SUFFIXES], STR), np.where(suffix_drop, 0,
                                                                        p.suffix))
    suffix = pc.if_else(pc.equal(suffix, ""), pa.scalar(None, STR), suffix)

    accent = r() < 0.35
    cols = {"first_name": with_accents(first, accent),
            "middle_name": with_accents(middle, accent),
            "last_name": with_accents(last_name, accent), "suffix": suffix}
    non_ascii = ~np.asarray(pc.fill_null(pc.and_(
        pc.string_is_ascii(take(given_names().names, p.first)),
        pc.string_is_ascii(surname(p.last1, p.last2, p.hyphen))), True))
    s.token("accents_dropped", non_ascii & p.accent & ~accent)
    s.token("accents_added", non_ascii & ~p.accent & accent)
    for col, tok in (("first_name", "typo_first"), ("last_name", "typo_last")):
        cols[col], hit = typo(cols[col], rng, r() < 0.05)
        s.token(tok, hit)
    return cols


def _surname_noise(rng: np.random.Generator, s: Subjects) -> pa.Array:
    p, n = s.people, len(s)
    last1, last2, hyphen = p.last1.copy(), p.last2.copy(), p.hyphen.copy()
    compound = last2 >= 0
    r = rng.random(n)
    swapped = compound & (r < 0.12)
    one_dropped = compound & (r >= 0.12) & (r < 0.37)
    drop_first = one_dropped & (rng.random(n) < 0.2)
    hyphen_changed = compound & ~one_dropped & (rng.random(n) < 0.2)
    added = ~compound & (p.group == HISPANIC) & (rng.random(n) < 0.08)
    last1, last2 = np.where(swapped, last2, last1), np.where(swapped, last1, last2)
    last1 = np.where(drop_first, last2, last1)
    last2 = np.where(one_dropped, -1, last2)
    last2 = np.where(added, surnames().lists["hispanic"].draw(rng, n), last2)
    hyphen = np.where(hyphen_changed, ~hyphen, hyphen & ~added)
    for tok, mask in (("surname_swapped", swapped), ("surname_one_dropped", one_dropped),
                      ("surname_hyphen_changed", hyphen_changed), ("surname_added", added)):
        s.token(tok, mask)
    return surname(last1, last2, hyphen)


def address_columns(rng: np.random.Generator, s: Subjects) -> dict[str, pa.Array]:
    a, n = s.addr, len(s)
    req = Residences(**{**a.__dict__, "type_full": rng.random(n) < 0.3,
                        "dir_full": rng.random(n) < 0.25})
    s.token("street_type_style", req.type_full != a.type_full)
    s.token("direction_style", ((a.predir >= 0) | (a.postdir >= 0)) & (req.dir_full != a.dir_full))
    street_names, street_typo = typo(take(streets().names, a.street), rng, rng.random(n) < 0.04)
    s.token("typo_street", street_typo)
    street = street_line(req, street_names=street_names)
    unit, street = _unit_noise(rng, s, street)
    place = place_columns(a.zip)
    alias = geography().alias.take(pa.array(a.zip))
    use_alias = np.asarray(pc.is_valid(alias)) & (rng.random(n) < 0.05)
    s.token("city_alias", use_alias)
    zip4 = rng.random(n) < 0.15
    plus4 = pc.utf8_lpad(pc.cast(pa.array(rng.integers(1, 10_000, n)), STR), 4, "0")
    s.token("zip4", zip4)
    return {"street": street, "unit": unit, "city": where(use_alias, alias, place["city"]),
            "state": place["state"],
            "zip": where(zip4, join(place["zip"], plus4, sep="-"), place["zip"])}


def _unit_noise(rng: np.random.Generator, s: Subjects,
                street: pa.Array) -> tuple[pa.Array, pa.Array]:
    a, n = s.addr, len(s)
    has = a.unit_kind > 0
    r = rng.random(n)
    missing = has & (r < 0.12)
    in_street = has & (r >= 0.12) & (r < 0.2)
    restyle = has & (rng.random(n) < 0.35)
    variant = np.where(restyle, rng.integers(0, len(UNIT_VARIANTS), n), _SAME_VARIANT[a.unit_kind])
    restyle &= variant != _SAME_VARIANT[a.unit_kind]
    desig = take(pa.array([v[0] or None for v in UNIT_VARIANTS], STR), variant)
    sep = take(pa.array([v[1] for v in UNIT_VARIANTS], STR), variant)
    line = pc.utf8_trim_whitespace(join(desig, unit_id(a), sep=sep))
    line = where(has & ~missing, line, None)
    s.token("unit_missing", missing)
    s.token("unit_in_street", in_street)
    s.token("unit_restyled", restyle & ~missing)
    street = where(in_street, join(street, line), street)
    return where(in_street, None, line), street


def dob_column(rng: np.random.Generator, s: Subjects) -> pa.Array:
    """Often missing; now and then with day and month swapped."""
    n = len(s)
    dates = s.people.dob.astype("datetime64[D]")
    month_start = dates.astype("datetime64[M]")
    year_start = dates.astype("datetime64[Y]")
    year = year_start.astype(np.int64) + 1970
    month = (month_start - year_start.astype("datetime64[M]")).astype(np.int64) + 1
    day = (dates - month_start).astype(np.int64) + 1
    keep = s.keep_dob if s.keep_dob is not None else np.zeros(n, bool)
    missing = ~keep & (rng.random(n) < 0.45)
    swap = ~missing & (day <= 12) & (day != month) & (rng.random(n) < 0.04)
    mm, dd = np.where(swap, day, month), np.where(swap, month, day)
    def pad(v: np.ndarray, w: int) -> pa.Array:
        return pc.utf8_lpad(pc.cast(pa.array(v), STR), w, "0")
    iso = join(pad(year, 4), pad(mm, 2), pad(dd, 2), sep="-")
    s.token("dob_missing", missing)
    s.token("dob_day_month_swapped", swap)
    return where(missing, None, iso)


def tin_column(rng: np.random.Generator, s: Subjects) -> pa.Array:
    """Mostly absent; when given, with or without dashes, now and then with a wrong digit."""
    n = len(s)
    given = rng.random(n) < 0.12
    wrong = given & (rng.random(n) < 0.1)
    tin = s.people.tin.copy()
    serial = tin % 10_000
    power = 10 ** rng.integers(0, 4, n)
    digit = (serial // power) % 10
    new_serial = serial + ((digit + rng.integers(1, 10, n)) % 10 - digit) * power
    new_serial = np.where(new_serial == 0, 1, new_serial)
    tin = np.where(wrong, tin - serial + new_serial, tin)
    text = pc.utf8_lpad(pc.cast(pa.array(tin), STR), 9, "0")
    dashed = join(pc.utf8_slice_codeunits(text, 0, 3), pc.utf8_slice_codeunits(text, 3, 5),
                  pc.utf8_slice_codeunits(text, 5, 9), sep="-")
    text = where(rng.random(n) < 0.6, dashed, text)
    s.token("tin_given", given & ~wrong)
    s.token("tin_typo", wrong)
    return where(given, text, None)


CASE_TOKENS = ("", "case_title", "case_lower")
CASED = ("first_name", "middle_name", "last_name", "suffix", "street", "unit", "city")


def request_columns(rng: np.random.Generator, s: Subjects) -> dict[str, pa.Array]:
    """The person and address columns of the request file for these subjects."""
    cols = {**name_columns(rng, s), **address_columns(rng, s),
            "date_of_birth": dob_column(rng, s), "tin": tin_column(rng, s)}
    case = rng.choice(3, size=len(s), p=[0.75, 0.15, 0.10])
    for c in CASED:
        cols[c] = apply_case(cols[c], case)
    for k in (1, 2):
        s.token(CASE_TOKENS[k], case == k)
    return cols
