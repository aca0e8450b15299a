"""Vocabulary indices to strings, whole columns at a time (PyArrow compute, no row loops)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from matchgate.master.namedata import (
    DIRECTIONS,
    STREET_TYPES,
    geography,
    given_names,
    streets,
    surnames,
)
from matchgate.master.population import SUFFIXES, People
from matchgate.master.residences import UNIT_KINDS, Residences

STR = pa.string()
_TYPES = pa.array([a for a, _ in STREET_TYPES] + [f for _, f in STREET_TYPES], STR)
_DIRS = pa.array([a for a, _ in DIRECTIONS] + [f for _, f in DIRECTIONS], STR)
_LETTERS = pa.array(list("ABCDEFGH"), STR)
_SUFFIXES = pa.array([s or None for s in SUFFIXES], STR)


def take(vocab: pa.Array, idx: np.ndarray) -> pa.Array:
    """vocab[idx], null where idx is negative."""
    idx = np.asarray(idx, np.int64)
    return vocab.take(pa.array(idx, mask=idx < 0))


def join(*parts: pa.Array | pa.Scalar, sep: str | pa.Array = " ") -> pa.Array:
    """Concatenate element-wise with a separator, skipping nulls (all null gives "").

    PyArrow 26 drops rows whose inputs are all null under null_handling="skip" (the result is
    shorter than the input), so such rows get an empty first part instead."""
    arrays = [p for p in parts if isinstance(p, pa.Array | pa.ChunkedArray)]
    if arrays:
        all_null = pc.is_null(arrays[0])
        for p in arrays[1:]:
            all_null = pc.and_(all_null, pc.is_null(p))
        first = parts[0]
        if isinstance(first, pa.Array | pa.ChunkedArray):
            parts = (pc.if_else(all_null, pa.scalar("", STR), first), *parts[1:])
    return pc.binary_join_element_wise(*parts, sep, null_handling="skip")


def nullify_empty(arr: pa.Array) -> pa.Array:
    return pc.if_else(pc.equal(arr, ""), pa.scalar(None, STR), arr)


def strip_accents(arr: pa.Array) -> pa.Array:
    return pc.replace_substring_regex(pc.utf8_normalize(arr, "NFD"), r"\p{Mn}", "")


def with_accents(arr: pa.Array, keep: np.ndarray) -> pa.Array:
    return pc.if_else(pa.array(keep), arr, strip_accents(arr))


def where(mask: np.ndarray, a: pa.Array | str | None, b: pa.Array | str | None) -> pa.Array:
    def scalar(v: pa.Array | str | None) -> pa.Array | pa.Scalar:
        return v if isinstance(v, pa.Array | pa.ChunkedArray) else pa.scalar(v, STR)
    return pc.if_else(pa.array(np.asarray(mask, bool)), scalar(a), scalar(b))


def surname(last1: np.ndarray, last2: np.ndarray, hyphen: np.ndarray) -> pa.Array:
    names = surnames().names
    sep = where(hyphen, "-", " ")
    return join(take(names, last1), take(names, last2), sep=sep)


def middle_name(middle: np.ndarray, initial: np.ndarray) -> pa.Array:
    full = take(given_names().names, middle)
    return where(initial, pc.utf8_slice_codeunits(full, 0, 1), full)


def name_columns(p: People) -> dict[str, pa.Array]:
    """The names as the custodian holds them: upper case, accents kept by some filers."""
    return {
        "first_name": with_accents(take(given_names().names, p.first), p.accent),
        "middle_name": with_accents(middle_name(p.middle, p.middle_initial), p.accent),
        "last_name": with_accents(surname(p.last1, p.last2, p.hyphen), p.accent),
        "suffix": take(_SUFFIXES, p.suffix),
    }


def street_line(r: Residences, *, house: bool = True, street_names: pa.Array | None = None,
                ) -> pa.Array:
    """"123 N MAIN ST", with types and directions abbreviated or in full per r's flags."""
    n_dir, n_type = len(DIRECTIONS), len(STREET_TYPES)
    dir_off = np.where(r.dir_full, n_dir, 0)
    name = street_names if street_names is not None else take(streets().names, r.street)
    parts = [
        take(_DIRS, np.where(r.predir >= 0, r.predir + dir_off, -1)),
        name,
        take(_TYPES, r.stype + np.where(r.type_full, n_type, 0)),
        take(_DIRS, np.where(r.postdir >= 0, r.postdir + dir_off, -1)),
    ]
    if house:
        parts.insert(0, pc.cast(pa.array(r.house), STR))
    return join(*parts)


def unit_id(r: Residences) -> pa.Array:
    num = where(r.unit_num > 0, pc.cast(pa.array(r.unit_num), STR), None)
    return join(num, take(_LETTERS, r.unit_letter), sep="")


def unit_line(r: Residences, designators: pa.Array | None = None,
              kind: np.ndarray | None = None) -> pa.Array:
    """"APT 4B", "# 3", "STE 200"; null when there is no unit."""
    kind = r.unit_kind if kind is None else kind
    vocab = designators if designators is not None else pa.array(UNIT_KINDS, STR)
    line = join(take(vocab, np.where(kind > 0, kind, -1)), unit_id(r))
    return where(r.unit_kind > 0, line, None)


def place_columns(zip_idx: np.ndarray) -> dict[str, pa.Array]:
    geo = geography()
    return {"city": geo.cities.take(pa.array(zip_idx)),
            "state": geo.states.take(pa.array(geo.zip_state[zip_idx])),
            "zip": geo.zips.take(pa.array(zip_idx))}


def iso_dates(days: np.ndarray) -> pa.Array:
    return pc.cast(pa.array(np.asarray(days, np.int32).astype("datetime64[D]")), STR)


def tin_strings(tin: np.ndarray) -> pa.Array:
    return pc.utf8_lpad(pc.cast(pa.array(tin), STR), 9, "0")
