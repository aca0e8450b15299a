"""The candidate index of a master version: its rows and, per blocking rule, its sorted keys.

Built once per master version (by `matchgate master load`, or on first use) into a folder next
to the store, `<store>.lookup/<version>/`:
- rows.arrow: the master history's model columns (plus row_id, tin, tax_year), in row_id order,
  an uncompressed Arrow IPC file that is memory-mapped (no load time, pages shared by processes);
- taxpayers.arrow: the taxpayers table in TIN order, memory-mapped likewise;
- keys_<n>.npy / pos_<n>.npy: per distinct key tuple of the model's blocking rules (two rules
  may differ by their filters alone), the 64-bit DuckDB hash of the key columns for every row
  that has them all, sorted (hashsort.stable_order), and the row position in
  rows.arrow that stands for each (memory-mapped numpy arrays: a whole chunk of requests is
  looked up with one vectorised binary search). A taxpayer who filed several years with the
  same name, date of birth and address has as many history rows with the same model columns:
  they score alike against any request, and the candidate is the latest of them (the best row
  by match weight, then by tax year), so the key of each points at the latest one
  (canonical_positions). A chunk's pairs then hold each such row once: some 2.5 times fewer
  pairs to score at 10 million taxpayers, with the same candidates. Those repeated entries
  (same key, same position, side by side) are stored once (format 6: a chunk's lookups then
  expand 7 million entries instead of 18 million), and rows_<n>.npy counts the history rows
  before each entry, so a key's row count, which caps it, is unchanged;
- tf_<column>.parquet: the master's term frequencies (as the Splink engine registers them);
- rules.json: the rules' key columns and the DuckDB version whose hash built the keys.

A hash may collide: the scorer applies each rule's own SQL to the pairs found here, so a
colliding row is never paired (at 30 million rows a collision is some 1 in 10^10 per key anyway).
"""

from __future__ import annotations

import functools
import itertools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from matchgate.columns import TAXPAYER_STD_COLUMNS
from matchgate.master.store import open_master
from matchgate.match.blocking import blocking_keys, key_sets
from matchgate.match.builtonce import build_once
from matchgate.match.hashsort import stable_order
from matchgate.match.settings import MODEL_COLUMNS

ROW_COLUMNS = ("row_id", "tin", "tax_year", *MODEL_COLUMNS)
TAXPAYER_COLUMNS = ("tin", "tin_type", "last_street", "last_unit", "last_city", "last_state",
                    "last_zip", *TAXPAYER_STD_COLUMNS)
BLOCK_ROWS = 1 << 16  # rows per record batch of the IPC files
KEY_SEP = "\x1f"
FORMAT = 6  # of the folder's files: an index of another format is rebuilt
# A model column with at most one distinct value in this many rows is stored dictionary-encoded
# in rows.arrow: a take copies 4-byte codes instead of strings (3 times faster), the file
# shrinks, and DuckDB and Python read the values as before.
DICTIONARY_SHARE = 8


def index_dir_for(store_path: Path, master_version: str) -> Path:
    return store_path.with_name(store_path.name + ".lookup") / master_version


def key_sql(keys: tuple[str, ...], alias: str = "") -> str:
    """SQL of a rule's key hash: null when one of its columns is (a null never pairs)."""
    cols = [f"{alias}{k}" for k in keys]
    present = " AND ".join(f"{c} IS NOT NULL" for c in cols)
    return f"CASE WHEN {present} THEN hash(concat_ws('{KEY_SEP}', {', '.join(cols)})) END"


def _write_ipc(reader: pa.RecordBatchReader, path: Path,
               dictionaries: dict[str, pa.Array] | None = None) -> None:
    """The reader's rows in record batches of BLOCK_ROWS rows (the last one shorter). A column
    of `dictionaries` arrives as codes into its dictionary and is written dictionary-encoded
    (one dictionary for the whole file)."""
    dictionaries = dictionaries or {}
    schema = pa.schema([pa.field(f.name, pa.dictionary(pa.int32(), pa.string()))
                        if f.name in dictionaries else f for f in reader.schema])

    def encoded(table: pa.Table) -> pa.Table:
        table = table.combine_chunks()
        return pa.table({name: pa.DictionaryArray.from_arrays(
                             table.column(name).chunk(0) if table.column(name).num_chunks
                             else pa.array([], pa.int32()), dictionaries[name])
                         if name in dictionaries else table.column(name)
                         for name in schema.names}, schema=schema)

    pending: list[pa.RecordBatch] = []
    held = 0
    with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, schema) as writer:
        for batch in reader:
            pending.append(batch)
            held += batch.num_rows
            while held >= BLOCK_ROWS:
                table = pa.Table.from_batches(pending, schema=reader.schema)
                writer.write_table(encoded(table.slice(0, BLOCK_ROWS)))
                rest = table.slice(BLOCK_ROWS)
                pending, held = rest.to_batches(), rest.num_rows
        if held:
            writer.write_table(encoded(pa.Table.from_batches(pending, schema=reader.schema)))


def _dictionary_columns(con: duckdb.DuckDBPyConnection, rows: int
                        ) -> dict[str, pa.Array]:
    """The model columns whose values repeat enough to be stored once (at most one distinct
    value in DICTIONARY_SHARE rows), each with its sorted distinct values in a temporary table
    d_<column> (v, code) for the rows' query to read codes from."""
    out: dict[str, pa.Array] = {}
    for column in MODEL_COLUMNS:
        ((distinct,),) = con.execute(
            f"SELECT approx_count_distinct({column}) FROM master_history").fetchall()
        if distinct * DICTIONARY_SHARE > rows:
            continue
        con.execute(f"CREATE OR REPLACE TEMP TABLE d_{column} AS SELECT v, "
                    f"CAST(row_number() OVER (ORDER BY v) - 1 AS INTEGER) AS code FROM "
                    f"(SELECT DISTINCT {column} AS v FROM master_history "
                    f"WHERE {column} IS NOT NULL)")
        out[column] = con.sql(f"SELECT v FROM d_{column} ORDER BY code"
                              ).to_arrow_table().column("v").combine_chunks()
    return out


def _rows_sql(dictionaries: dict[str, pa.Array]) -> str:
    """The master history in row_id order; a dictionary column as its codes."""
    cols = [f"d_{c}.code AS {c}" if c in dictionaries else f"h.{c}" for c in ROW_COLUMNS]
    joins = [f"LEFT JOIN d_{c} ON d_{c}.v = h.{c}" for c in dictionaries]
    return (f"SELECT {', '.join(cols)} FROM master_history h {' '.join(joins)} "
            f"ORDER BY h.row_id")


def _rules_manifest(keys: list[tuple[str, ...]], tf_columns: list[str]) -> dict[str, Any]:
    return {"format": FORMAT, "duckdb": duckdb.__version__,
            "rules": [list(k) for k in key_sets(keys)], "tf_columns": tf_columns}


def build_index(store_path: Path, model: dict[str, Any], tmp: Path) -> None:
    """Write the index files into the empty folder tmp (build_once renames it into place)."""
    from matchgate.match.engine import master_term_frequencies, tf_columns

    keys = blocking_keys(model)
    if keys is None:
        raise ValueError("the model has a blocking rule that is not plain equalities")
    with open_master(store_path) as store:
        con = store.cursor()
        ((total,),) = con.execute("SELECT count(*) FROM master_history").fetchall()
        dictionaries = _dictionary_columns(con, int(total))
        _write_ipc(con.sql(_rows_sql(dictionaries)).arrow(), tmp / "rows.arrow", dictionaries)
        _write_ipc(con.sql(f"SELECT {', '.join(TAXPAYER_COLUMNS)} FROM taxpayers ORDER BY tin"
                           ).arrow(), tmp / "taxpayers.arrow")
        rows = pa.ipc.open_file(pa.memory_map(str(tmp / "rows.arrow"), "r")).read_all()
        canonical = canonical_positions(rows, _latest_alike(con))
        key_columns = sorted({k for rule in keys for k in rule})
        con.register("index_rows", rows.select(key_columns))
        for n, rule in enumerate(key_sets(keys)):  # two rules with the same keys share them
            hashes = con.sql(f"SELECT {key_sql(rule)} AS h FROM index_rows").fetchnumpy()["h"]
            present = np.flatnonzero(~np.ma.getmaskarray(hashes))
            order, ordered = stable_order(np.ma.getdata(hashes)[present])
            keys_of_rule, positions, rows_before = without_repeats(ordered,
                                                                   canonical[present[order]])
            np.save(tmp / f"keys_{n}.npy", keys_of_rule)
            np.save(tmp / f"pos_{n}.npy", positions)
            np.save(tmp / f"rows_{n}.npy", rows_before)
            del hashes, present, order, ordered, keys_of_rule, positions, rows_before
        del canonical
        con.unregister("index_rows")
        columns = tf_columns(model)
        for column, table in master_term_frequencies(con, columns).items():
            pq.write_table(table, tmp / f"tf_{column}.parquet")
    (tmp / "rules.json").write_text(json.dumps(_rules_manifest(keys, columns)))


def without_repeats(keys: np.ndarray, positions: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A rule's sorted keys and their positions without the entries equal to the one before
    (a taxpayer's alike rows: same key, same canonical position, side by side in row order),
    and the number of rows before each entry (one more, the total, at the end): a key's row
    count, which caps it, is rows[hi] - rows[lo] for its entries [lo, hi)."""
    keep = np.ones(len(keys), dtype=bool)
    if len(keys) > 1:
        np.not_equal(keys[1:], keys[:-1], out=keep[1:])
        keep[1:] |= positions[1:] != positions[:-1]
    kept = np.flatnonzero(keep)
    rows_before = np.append(kept, len(keys)).astype(np.int64)
    return keys[kept], positions[kept], rows_before


def _latest_alike(con: duckdb.DuckDBPyConnection) -> np.ndarray:
    """Per history row in row_id order, the position (in that order) of the latest row of the
    same taxpayer with, by hash, the same model columns: a proposal, checked by
    canonical_positions. Grouped in numpy from one 64-bit hash per row (a window function over
    the 33 million rows of 10M taxpayers held 14 GiB)."""
    alike = con.sql(f"SELECT hash(tin, {', '.join(MODEL_COLUMNS)}) AS h, tax_year AS y "
                    "FROM master_history ORDER BY row_id").fetchnumpy()
    h = np.asarray(alike["h"], dtype=np.uint64)
    year = np.asarray(alike["y"], dtype=np.int64)
    del alike
    if len(h) == 0:  # a master file whose every row was set aside
        return np.zeros(0, dtype=np.int64)
    order, grouped = stable_order(h)
    del h
    starts = np.flatnonzero(np.r_[True, grouped[1:] != grouped[:-1]])
    del grouped
    # per hash, the latest year and then the last row: the largest (year, position), packed
    # into one number (the year since the earliest above the positions' bits)
    shift = max(len(order).bit_length(), 1)
    ranked = ((year - year.min()) << shift) | np.arange(len(order), dtype=np.int64)
    best = np.maximum.reduceat(ranked[order], starts) & ((1 << shift) - 1)
    latest = np.empty(len(order), dtype=np.int64)
    latest[order] = np.repeat(best, np.diff(np.r_[starts, len(order)]))
    return latest


def canonical_positions(rows: pa.Table, latest: np.ndarray) -> np.ndarray:
    """Per row of rows.arrow (row_id order), the position of the row its keys point at: the
    proposed latest alike row (`latest`, a position) where the TIN and every model column of
    the two are equal, NULL to NULL (a hash collision is caught here), the row itself
    otherwise."""
    target = np.array(latest, dtype=np.int64)
    mine = np.flatnonzero(target != np.arange(len(target)))
    other = target[mine]
    same = np.ones(len(mine), dtype=bool)
    for name in ("tin", *MODEL_COLUMNS):
        column = rows.column(name)
        if pa.types.is_dictionary(column.type):  # one dictionary for the file: equal codes
            codes = np.concatenate([np.asarray(pc.fill_null(c.indices, -1))
                                    for c in column.chunks]) if column.num_chunks else \
                np.zeros(0, dtype=np.int32)
            same &= codes[mine] == codes[other]
            continue
        a, b = column.take(pa.array(mine)), column.take(pa.array(other))
        equal = pc.fill_null(pc.equal(a, b), False)
        both_null = pc.and_(pc.is_null(a), pc.is_null(b))
        same &= np.asarray(pc.or_(equal, both_null))
    target[mine[~same]] = mine[~same]
    return target


def index_current(directory: Path, model: dict[str, Any]) -> bool:
    """The folder holds a complete index for the model's rules, in this format and hash."""
    from matchgate.match.engine import tf_columns

    rules = directory / "rules.json"
    if not rules.is_file():
        return False
    try:
        held = json.loads(rules.read_text())
    except ValueError:
        return False
    return held == _rules_manifest(blocking_keys(model) or [], tf_columns(model))


# Up to this many rows, a take is made of one-row slices (a few microseconds each); beyond, of
# one take per record batch (a fraction of a millisecond each, whatever it takes).
FEW_POSITIONS = 4096


class BlockFile:
    """A memory-mapped IPC file of BLOCK_ROWS-row batches, read row by position."""

    def __init__(self, path: Path) -> None:
        self.reader = pa.ipc.open_file(pa.memory_map(str(path), "r"))
        self.schema = self.reader.schema
        self.table = self.reader.read_all()  # zero-copy over the mapped file
        self.batches = self.table.to_batches()
        self.starts = np.cumsum([0, *(b.num_rows for b in self.batches)])
        self._codes: dict[str, tuple[np.ndarray, pa.Array] | None] = {}

    def column(self, name: str) -> pa.ChunkedArray:
        return self.table.column(name)

    def codes(self, name: str) -> tuple[np.ndarray, pa.Array] | None:
        """A dictionary-encoded column as one array of every row's code and the file's one
        dictionary (a row's value is dictionary[codes[row]], null where its code is -1); None
        for a column stored as values. Made once (4 bytes a row), so that many rows' values
        are gathered by position with numpy instead of taken block by block."""
        if name not in self._codes:  # kept with the file, freed with it
            column = self.column(name)
            self._codes[name] = None if (not pa.types.is_dictionary(column.type)
                                         or column.num_chunks == 0) else (
                np.concatenate([np.asarray(pc.fill_null(chunk.indices, -1))
                                for chunk in column.chunks]).astype(np.int32, copy=False),
                column.chunk(0).dictionary)
        return self._codes[name]

    def gathered(self, name: str, positions: np.ndarray) -> pa.DictionaryArray:
        """A dictionary-encoded column's values at the positions, gathered from its codes."""
        encoded = self.codes(name)
        if encoded is None:
            raise ValueError(f"column {name!r} is not dictionary-encoded")
        codes, dictionary = encoded
        at = codes[positions]
        return pa.DictionaryArray.from_arrays(pa.array(at, mask=at < 0), dictionary)

    def take(self, positions: np.ndarray, columns: Sequence[str] | None = None) -> pa.Table:
        """The rows at the given positions, in that order (only their pages are read), with
        all columns or only `columns`. Taken batch by batch: Arrow's take over the whole
        chunked table costs tens of milliseconds even for one row (it resolves every chunk),
        which a single request cannot afford."""
        schema = self.schema if columns is None else pa.schema(
            [self.schema.field(c) for c in columns])
        if len(positions) == 0:
            return schema.empty_table()
        batches = self.batches if columns is None else [b.select(list(columns))
                                                        for b in self.batches]
        positions = np.asarray(positions, dtype=np.int64)
        order = None
        if np.any(positions[1:] < positions[:-1]):
            order = np.argsort(positions)  # equal positions are the same row: any order
            positions = positions[order]
        if len(positions) <= FEW_POSITIONS:  # zero-copy one-row slices, copied once below
            owner = np.searchsorted(self.starts, positions, side="right") - 1
            parts = [batches[b].slice(int(at - self.starts[b]), 1)
                     for b, at in zip(owner, positions, strict=True)]
        else:
            cuts = np.searchsorted(positions, self.starts)
            parts = [batches[n].take(pa.array(positions[lo:hi] - self.starts[n]))
                     for n, (lo, hi) in enumerate(itertools.pairwise(cuts)) if hi > lo]
        taken = pa.Table.from_batches(parts, schema=schema).combine_chunks()
        if order is not None:  # back to the order asked: the inverse permutation
            inverse = np.empty_like(order)
            inverse[order] = np.arange(len(order))
            taken = taken.take(pa.array(inverse))
        return taken


#: from this many looked-up hashes on, RuleKeys.ranges sorts them first
SORTED_LOOKUP_FROM = 64


@dataclass
class RuleKeys:
    """One blocking rule's sorted key hashes and the row position of each (memory-mapped)."""

    keys: tuple[str, ...]
    hashes: np.ndarray  # uint64, sorted
    positions: np.ndarray  # int64
    rows_before: np.ndarray  # int64, one more than hashes: history rows before each entry

    def rows(self, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """The history rows of the entries [lo, hi): a key's row count, however many of its
        rows are one entry."""
        return np.asarray(self.rows_before[hi], dtype=np.int64) - self.rows_before[lo]

    def ranges(self, hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per looked-up hash, the [lo, hi) range of the rows holding it. Many hashes are looked
        up in sorted order (numpy then narrows each search by the one before: a chunk's
        lookups into tens of millions of keys take a third of the time), one as it is."""
        if len(hashes) < SORTED_LOOKUP_FROM:
            return (np.searchsorted(self.hashes, hashes, side="left"),
                    np.searchsorted(self.hashes, hashes, side="right"))
        order = np.argsort(hashes, kind="stable")
        ordered = hashes[order]
        lo, hi = np.empty(len(hashes), dtype=np.int64), np.empty(len(hashes), dtype=np.int64)
        lo[order] = np.searchsorted(self.hashes, ordered, side="left")
        hi[order] = np.searchsorted(self.hashes, ordered, side="right")
        return lo, hi


class KeyIndex:
    """The opened index of one master version."""

    def __init__(self, directory: Path) -> None:
        self.directory = d = directory
        held = json.loads((d / "rules.json").read_text())
        self.rules = [RuleKeys(tuple(keys), np.load(d / f"keys_{n}.npy", mmap_mode="r"),
                               np.load(d / f"pos_{n}.npy", mmap_mode="r"),
                               np.load(d / f"rows_{n}.npy", mmap_mode="r"))
                      for n, keys in enumerate(held["rules"])]
        self.rows = BlockFile(d / "rows.arrow")
        self.taxpayers = BlockFile(d / "taxpayers.arrow")
        self.term_frequencies = {c: pq.read_table(d / f"tf_{c}.parquet")
                                 for c in held["tf_columns"]}

    @functools.cached_property
    def taxpayer_tins(self) -> np.ndarray:
        """Every taxpayer's TIN, in the index's (TIN) order: read when first needed, so that a
        process that opens the engine without finding (a batch whose child finds) does not
        hold 10 million of them (90 MB, a second and a half)."""
        return np.asarray(self.taxpayers.column("tin").to_numpy(zero_copy_only=False)
                          ).astype("S9")

    def taxpayer_rows(self, tins: Sequence[str] | np.ndarray) -> pa.Table:
        """The taxpayers of these TINs (each of them in the index), in TIN order."""
        wanted = np.sort(np.asarray(tins, dtype="S9"))
        return self.taxpayers.take(np.searchsorted(self.taxpayer_tins, wanted))


def open_index(store_path: Path, master_version: str, model: dict[str, Any], *,
               build: bool = True) -> KeyIndex:
    """The index of the master version (built first when missing or stale, if `build`)."""
    directory = index_dir_for(store_path, master_version)
    if not build and not index_current(directory, model):
        raise FileNotFoundError(directory)
    build_once(directory, lambda: index_current(directory, model),
               lambda tmp: build_index(store_path, model, tmp))
    return KeyIndex(directory)

