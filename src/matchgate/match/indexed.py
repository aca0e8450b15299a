"""The indexed engine: blocking by the master's key index, scoring with the model's own SQL.

Splink's prediction joins each chunk of requests with the whole master history to find the
pairs its blocking rules allow; at 10 million taxpayers (some 33 million history rows) that
scan is most of a batch's time. Here the pairs come from the key index built with the master
(keyindex.py): per blocking rule, the requests' key hashes are looked up in the sorted hashes
with one vectorised binary search, a key held by more than BLOCK_KEY_CAP rows is left out for
that request (as blocking.capped_model does for Splink), and only the rows reached are read from
the memory-mapped master. The pairs are then scored in one DuckDB query by the model's own gamma
conditions, m and u and term-frequency adjustments (scoring.PairScorer), kept only where a rule
(with its filters, and not capped) holds, and turned into candidates by the same SQL as the
Splink engine's (candidates.candidates_sql). A test compares every decision with the Splink
engine's.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from matchgate.master.store import open_master
from matchgate.match.blocking import (
    BLOCK_KEY_CAP,
    blocking_keys,
    blocking_predicate,
    blocking_rules,
    capped_model,
    key_sets,
    rare_flag,
    sided,
)
from matchgate.match.candidates import (
    CANDIDATE_COLUMNS,
    best_of_rows_sql,
    candidates_sql,
    described_sql,
    weighted_columns_sql,
)
from matchgate.match.engine import comparison_names, load_model, tf_comparisons
from matchgate.match.fewpairs import FewPairScorer, best_by_taxpayer, candidate_rows
from matchgate.match.inputs import MASTER_PREFIX, requests_input
from matchgate.match.keyindex import KeyIndex, key_sql, open_index
from matchgate.match.ranges import expand
from matchgate.match.scoring import PairScorer
from matchgate.match.settings import MASTER_DATASET, MODEL_COLUMNS, UNIQUE_ID
from matchgate.match.sqlpy import Inexact, Unsupported, columns_read
from matchgate.match.train import DEFAULT_MODEL_PATH

# Below this many request and master rows, the term-frequency tables are cut to their values.
FEW_ROWS = 20_000
#: what a caller keeps of a set of candidates (find_candidates' `narrow`)
Narrow = Callable[[pa.Table], pa.Table]
# A single request with at most this many pairs is scored in Python (fewpairs.py): some 20
# microseconds a pair, against some 25 ms for DuckDB to plan the scoring queries at all.
FEW_PAIRS = 2_000
# A key set whose rules all have filters has them applied to its pairs, before any master row is
# taken, from this many pairs on (below it the scoring applies them, as it always does).
NARROW_FROM = 20_000
# Term frequencies are looked up for the values of an array of fewer than 1/FEW_SHARE as many
# elements as there are values (indexed._looked_up).
FEW_SHARE = 8
# DuckDB's share of memory per call (it spills beyond it).
MATCH_MEMORY_LIMIT = "4GB"


class Blocked:
    """The pairs of a set of requests: request index and master row position per pair (sorted,
    distinct), and per key set of the rules, which requests' keys are rare (not capped)."""

    def __init__(self, request: np.ndarray, position: np.ndarray,
                 rare: dict[str, np.ndarray]) -> None:
        self.request = request
        self.position = position
        self.rare = rare


class IndexedMatchEngine:
    """Candidates for a table of standardized requests (one row or a million), by the key
    index and the model."""

    def __init__(self, store_path: Path, model_path: Path = DEFAULT_MODEL_PATH, *,
                 key_cap: int = BLOCK_KEY_CAP, build: bool = True,
                 threads: int | None = None) -> None:
        self.store_path = Path(store_path)
        # how to open the same engine in another process (match/offload.py): the index is
        # built by now, so the copy only maps it
        self.reopen = functools.partial(IndexedMatchEngine, self.store_path, Path(model_path),
                                        key_cap=key_cap, build=False, threads=threads)
        with open_master(self.store_path) as store:
            self.master_version = store.meta().master_version
        model = load_model(model_path)
        keys = blocking_keys(model)
        if keys is None:
            raise ValueError("the model has a blocking rule that is not plain equalities")
        self.model = model
        self.keys = keys
        self.sets = key_sets(keys)
        self.key_cap = key_cap
        self.index: KeyIndex = open_index(self.store_path, self.master_version, model,
                                          build=build)
        self.scorer = PairScorer(model)
        self.comparisons = comparison_names(model)
        self.tf_comparisons = tf_comparisons(model)
        # a pair is reached when a rule holds and its key is rare on the request's side (the
        # master side's flags are constant true: the pair has the request's key value)
        self.reached_plain = blocking_predicate(capped_model(model, keys), "{}_l", "{}_r")
        self.reached = self.scorer.hoister.rewrite(self.reached_plain)
        # The engine's queries join as they are written (_pairs_sql: the pairs with their
        # master rows, then with their requests, whose join applies the rules): DuckDB's own
        # order joined the requests first and then built a hash table of a chunk's two million
        # wide master rows, 0.8 CPU-seconds more per chunk of 50,000 requests.
        self.con = duckdb.connect(config={"memory_limit": MATCH_MEMORY_LIMIT,
                                          "disabled_optimizers": "join_order",
                                          **({"threads": threads} if threads else {})})
        self._hash_sql = ", ".join(f"{key_sql(k)} AS h{n}" for n, k in enumerate(self.sets))
        self._key_columns = sorted({c for keys in self.sets for c in keys})
        self.narrow_from = NARROW_FROM
        self._set_filters, self._filter_columns = _set_filters(model, self.sets)
        self._one_hash_sql = "SELECT " + ", ".join(
            key_sql(tuple(f"${c}" for c in keys)) for keys in self.sets)

    # -- blocking ------------------------------------------------------------------------------
    def _key_hashes(self, shaped: pa.Table) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per key set of the rules, each request's key hash and whether it has one. One
        request's values are passed as parameters: no table to register, a third of the
        time."""
        if shaped.num_rows == 1:
            (row,) = shaped.to_pylist()
            values = self.con.execute(self._one_hash_sql, {
                c: row[c] for c in self._key_columns}).fetchall()[0]
            return [(np.asarray([v or 0], dtype=np.uint64), np.asarray([v is not None]))
                    for v in values]
        self.con.register("block_requests", shaped)
        try:
            hashes = self.con.execute(f"SELECT {self._hash_sql} FROM block_requests"
                                      ).fetchnumpy()
        finally:
            self.con.unregister("block_requests")
        return [(np.asarray(np.ma.getdata(column), dtype=np.uint64),
                 ~np.ma.getmaskarray(column))
                for column in (hashes[f"h{n}"] for n in range(len(self.sets)))]

    def block(self, shaped: pa.Table) -> Blocked:
        """The pairs the rules' keys give for the requests (model input, unique_id + std_*)."""
        hashes = self._key_hashes(shaped)
        rules = {rule.keys: rule for rule in self.index.rules}
        owners, positions = [], []
        rare: dict[str, np.ndarray] = {}
        for n, keys in enumerate(self.sets):
            values, present = hashes[n]
            rule = rules[keys]
            lo, hi = rule.ranges(values)
            hi = np.where(present, hi, lo)
            frequent = rule.rows(lo, hi) > self.key_cap
            rare[rare_flag(keys, self.sets)] = ~frequent
            owner, element = expand(lo, np.where(frequent, lo, hi))
            position = np.asarray(rule.positions[element], dtype=np.int64)
            if self._set_filters[n] is not None and len(owner) >= self.narrow_from:
                holds = self._filter_holds(n, shaped, owner, position)
                owner, position = owner[holds], position[holds]
            owners.append(owner)
            positions.append(position)
        n_rows = len(self.index.rows.table)
        pair = _distinct(np.concatenate(owners) * n_rows + np.concatenate(positions))
        request, position = np.divmod(pair, n_rows)
        return Blocked(request, position, rare)

    def _filter_holds(self, n: int, shaped: pa.Table, owner: np.ndarray,
                      position: np.ndarray) -> np.ndarray:
        """Whether the filters of some rule of key set `n` hold for each of its pairs, read
        from the filters' columns alone (a rule such as "same surname initial and given name,
        and a date of birth missing on one side" finds most of its pairs by its keys and drops
        them by its filter: dropped here, their master rows are neither taken nor joined)."""
        columns = self._filter_columns[n]
        master = self._master_values(columns, position)
        request = shaped.select(list(columns)).take(pa.array(owner))
        narrow = pa.table({**{f"{c}_l": m for c, m in zip(columns, master, strict=True)},
                           **{f"{c}_r": request.column(c) for c in columns}})
        con = self.con.cursor()
        try:
            con.register("narrow", narrow)
            held = con.execute(f"SELECT coalesce({self._set_filters[n]}, FALSE) AS k "
                               "FROM narrow").fetchnumpy()["k"]
        finally:
            con.close()
        return np.asarray(held, dtype=bool)

    def _master_values(self, columns: Sequence[str], position: np.ndarray) -> list[pa.Array]:
        """The master rows' values of these columns at each position (repeated as often as a
        position is): gathered from the codes of a dictionary-encoded column (the date of
        birth the rules' filters read), taken from the distinct rows otherwise."""
        rows_file = self.index.rows
        if all(rows_file.codes(c) is not None for c in columns):
            return [rows_file.gathered(c, position) for c in columns]
        rows, inverse = _distinct_with_inverse(position, len(self.index.rows.table))
        master = self.index.rows.take(rows, columns).take(pa.array(inverse))
        return [master.column(c).combine_chunks() for c in columns]

    # -- scoring -------------------------------------------------------------------------------
    def find_candidates(self, requests: pa.Table, *, threshold_probability: float = 0.01,
                        narrow: Narrow | None = None) -> pa.Table:
        """The requests' candidates (CANDIDATE_COLUMNS); with `narrow`, only those it keeps of
        all of them (it is given them before their taxpayers' columns are joined: for a large
        set of requests, only the rows it keeps are joined)."""
        shaped = requests_input(requests)
        return self._scored(shaped, self.block(shaped), threshold_probability, narrow)

    def candidate_rows(self, requests: pa.Table, *,
                       threshold_probability: float = 0.01) -> list[dict[str, Any]]:
        """The candidates of a request as rows (find_candidates' columns): one request of at
        most FEW_PAIRS pairs scored in Python (fewpairs.py, no query to plan), others, and any
        request whose values the Python scorer cannot reproduce exactly, by SQL."""
        shaped = requests_input(requests)
        blocked = self.block(shaped)
        scorer = self.few_pair_scorer
        if scorer is not None and shaped.num_rows == 1 and len(blocked.position) <= FEW_PAIRS:
            try:
                return self._few_pairs(scorer, shaped, blocked, threshold_probability)
            except Inexact:
                pass
        return list(self._scored(shaped, blocked, threshold_probability).to_pylist())

    @functools.cached_property
    def few_pair_scorer(self) -> FewPairScorer | None:
        """The Python scorer of the model (None when the model uses SQL it does not cover)."""
        try:
            return FewPairScorer(self.model, self.reached_plain, self.index.term_frequencies)
        except Unsupported:
            return None

    def _few_pairs(self, scorer: FewPairScorer, shaped: pa.Table, blocked: Blocked,
                   threshold_probability: float) -> list[dict[str, Any]]:
        (request,) = shaped.to_pylist()
        request.update({flag: bool(values[0]) for flag, values in blocked.rare.items()})
        rows = _decoded(self.index.rows.take(blocked.position)).to_pylist()
        for row in rows:
            row.update(dict.fromkeys(blocked.rare, True))
        best = best_by_taxpayer(scorer.score(request, rows, threshold_probability))
        taxpayers = self.index.taxpayer_rows([p.row["tin"] for p in best]).to_pylist()
        return candidate_rows(request[UNIQUE_ID], request, best,
                              {t["tin"]: t for t in taxpayers})

    def _scored(self, shaped: pa.Table, blocked: Blocked, threshold_probability: float,
                narrow: Narrow | None = None) -> pa.Table:
        if len(blocked.request) == 0:
            return narrow(_empty_candidates()) if narrow is not None else _empty_candidates()
        rows, inverse = _distinct_with_inverse(blocked.position, len(self.index.rows.table))
        master = self._with_frequencies(self.index.rows.take(rows), "l")
        flags = {f: pa.array(v) for f, v in blocked.rare.items()}
        side = self._with_frequencies(shaped, "r").append_column(
            "q_idx", pa.array(np.arange(shaped.num_rows, dtype=np.int64)))
        for name, values in flags.items():
            side = side.append_column(name, values)
        few = master.num_rows + side.num_rows <= FEW_ROWS
        con = self.con.cursor()
        try:
            given: frozenset[str] = frozenset()
            if not few:
                master, given = self._hoisted_by_value(con, master)
            # each pair's master row, taken in pair order (4-byte codes for the encoded
            # columns): the query then joins the pairs to their requests only; joining them to
            # the distinct master rows built a hash table of two million wide rows per chunk
            pairs = master.take(pa.array(inverse)).append_column(
                "q_idx", pa.array(blocked.request))
            for name, table in (("master_pairs", pairs), ("master_rows", master),
                                ("request_rows", side)):
                con.register(name, table)
            if narrow is not None and not few:
                # the best row per request and TIN, scored and picked in one query, narrowed,
                # then described: a bulk chunk's caller keeps a fourth of them, and only those
                # take their taxpayer
                best = narrow(_arrow(con, self._best_scored_sql(
                    tuple(flags), threshold_probability, given), few))
                con.register("best_rows", best)
                tins = pc.unique(best.column("tin")).to_numpy(zero_copy_only=False)
                con.register("candidate_taxpayers", self.index.taxpayer_rows(tins))
                return _arrow(con, self._described_sql, few).select(list(CANDIDATE_COLUMNS))
            scored = _arrow(con, self._scoring_sql(tuple(flags), threshold_probability, given),
                            few)
            con.register("predictions", scored)
            tins = pc.unique(scored.column("tin")).to_numpy(zero_copy_only=False)
            con.register("candidate_taxpayers", self.index.taxpayer_rows(tins))
            result = _arrow(con, self._candidates_sql(not few), few)
        finally:
            con.close()
        result = result.select(list(CANDIDATE_COLUMNS))
        return narrow(result) if narrow is not None else result

    @functools.cache  # noqa: B019 (one engine per store and model, kept while it serves)
    def _scoring_sql(self, flags: tuple[str, ...], threshold_probability: float,
                     given: frozenset[str] = frozenset()) -> str:
        """The scoring query (generated once per set of flags and threshold: generating it
        costs a single request more than running it)."""
        return self.scorer.sql(self._pairs_sql(list(flags), given), self.reached,
                               threshold_probability,
                               keep=("source_dataset_l", "unique_id_l", "unique_id_r", "tin"))

    @functools.cache  # noqa: B019 (one engine per store and model, kept while it serves)
    def _candidates_sql(self, bulk: bool) -> str:
        """The candidate query; a bulk chunk's evidence comes as a struct (no JSON text to
        write and parse again) and its rows in no particular order, a single request's as the
        JSON text other engines give, best first."""
        return candidates_sql("predictions", "request_rows", self.comparisons,
                              self.tf_comparisons, history="master_rows",
                              taxpayers="candidate_taxpayers", evidence_struct=bulk,
                              ordered=not bulk)

    @functools.cache  # noqa: B019 (one engine per store and model, kept while it serves)
    def _best_scored_sql(self, flags: tuple[str, ...], threshold_probability: float,
                         given: frozenset[str] = frozenset()) -> str:
        """A bulk chunk's best row per request and TIN (candidates_sql's first part), in the
        scoring query itself: the pairs over the threshold (a million in a chunk of 50,000
        requests) are not written out as Arrow, nor their master row named by a text id and
        joined again for its TIN and tax year."""
        scoring = self.scorer.sql(self._pairs_sql(list(flags), given), self.reached,
                                  threshold_probability, keep=("unique_id_r", "tin", "tax_year"))
        columns = weighted_columns_sql(self.comparisons, self.tf_comparisons)
        return (f"WITH scored AS ({scoring}), rows AS (SELECT unique_id_r AS request_id, tin, "
                f"tax_year, match_probability, match_weight, {columns} FROM scored)\n"
                + best_of_rows_sql("rows", self.comparisons, evidence_struct=True))

    @functools.cached_property
    def _described_sql(self) -> str:
        """The narrowed best rows with their taxpayers' columns (candidates_sql's second
        part), in no particular order."""
        return described_sql("best_rows", "request_rows", "candidate_taxpayers", ordered=False)

    def _pairs_sql(self, flags: list[str], given: frozenset[str] = frozenset()) -> str:
        """The pairs with both sides' model columns (_l master, _r request), the rare flags and
        the term frequencies of each side's values, as the scorer reads them: master_pairs
        holds each pair's master row and its request's q_idx (`given`: the hoisted columns it
        carries already, _hoisted_by_value)."""
        cols = [f"m.{c} AS {c}_l, q.{c} AS {c}_r" for c in MODEL_COLUMNS]
        cols += [f"TRUE AS {f}_l, q.{f} AS {f}_r" for f in flags]
        cols += [f"m.tf_{c}_l, q.tf_{c}_r" for c in self.scorer.tf_columns]
        cols += [f"m.{h} AS {h}_l, q.{h} AS {h}_r" for h in self.scorer.hoister.columns.values()]
        return (f"(SELECT '{MASTER_DATASET}' AS source_dataset_l, "
                f"'{MASTER_PREFIX}' || CAST(m.row_id AS VARCHAR) AS unique_id_l, "
                f"q.{UNIQUE_ID} AS unique_id_r, m.tin, m.tax_year, {', '.join(cols)} "
                f"FROM {self._with_hoisted('master_pairs', given)} m "
                f"JOIN {self._with_hoisted('request_rows')} q ON q.q_idx = m.q_idx)")

    def _hoisted_by_value(self, con: duckdb.DuckDBPyConnection, master: pa.Table
                          ) -> tuple[pa.Table, frozenset[str]]:
        """The master rows with those of the scorer's hoisted columns that read one
        dictionary-encoded column, each worked out once per value of its dictionary (and for
        null) and taken back to the rows by their codes (a chunk's two million master rows
        hold some tens of thousands of distinct names and dates at 10M; computing them per row
        took an eighth of the scoring query), and the names of the columns so added (the query
        computes the others per row)."""
        given = []
        for source, hoisted in self._hoisted_by_source.items():
            if source not in master.column_names:
                continue
            array = _one_array(master.column(source))
            if not pa.types.is_dictionary(array.type) or len(array.dictionary) > len(array):
                continue
            values = pa.concat_arrays([array.dictionary, pa.nulls(1, array.dictionary.type)])
            con.register("hoisted_values", pa.table({source: values}))
            try:  # every hoisted column of this source in one query
                computed = _arrow(con, "SELECT " + ", ".join(
                    f"{sql} AS {name}" for name, sql in hoisted) + " FROM hoisted_values", True)
            finally:
                con.unregister("hoisted_values")
            codes = pc.fill_null(array.indices, len(array.dictionary))
            for name, _ in hoisted:
                master = master.append_column(name, _taken(_one_array(computed.column(name)),
                                                           codes))
                given.append(name)
        return master, frozenset(given)

    @functools.cached_property
    def _hoisted_sources(self) -> dict[str, str | None]:
        return self.scorer.hoister.sources()

    @functools.cached_property
    def _hoisted_by_source(self) -> dict[str, list[tuple[str, str]]]:
        """Per master column, the hoisted columns that read it alone: (name, SQL)."""
        sql_of = {name: sql for sql, name in self.scorer.hoister.columns.items()}
        out: dict[str, list[tuple[str, str]]] = {}
        for name, source in self._hoisted_sources.items():
            if source is not None:
                out.setdefault(source, []).append((name, sql_of[name]))
        return out

    def _with_hoisted(self, table: str, given: frozenset[str] = frozenset()) -> str:
        """The table with the scorer's hoisted columns (functions of one side's columns), but
        those `given` (it has them)."""
        return f"(SELECT x.*{self.scorer.hoister.select_sql('x', given)} FROM {table} x)"

    @functools.cached_property
    def _frequencies(self) -> dict[str, tuple[pa.Array, pa.Array]]:
        """Per term-frequency column, its master values and the term frequency of each."""
        return {c: (self.index.term_frequencies[c].column(c).combine_chunks(),
                    self.index.term_frequencies[c].column(f"tf_{c}").combine_chunks())
                for c in self.scorer.tf_columns}

    def _with_frequencies(self, table: pa.Table, side: str) -> pa.Table:
        """The table with tf_<column>_<side>, the master's term frequency of each row's value
        of each term-frequency column (null for a null value or one the master does not hold),
        as a join with the term-frequency table gives it. Looked up in Arrow: a chunk's two
        million master rows cost DuckDB three hash joins per query, and a dictionary-encoded
        column (the index's names and dates) is looked up once per distinct value."""
        for column in self.scorer.tf_columns:
            values, frequencies = self._frequencies[column]
            table = table.append_column(f"tf_{column}_{side}", _looked_up(
                _one_array(table.column(column)), values, frequencies))
        return table


# A plain execute skips the relation API's own work on the SQL text (about 13 ms for the scoring
# query, as much as running it on one request's rows); its Arrow output is a copy, which for a
# few rows costs nothing, so DuckDB's warning about that copy is not shown.
warnings.filterwarnings("ignore", message="Arrow output on a DB-API result",
                        category=UserWarning)


def _arrow(con: duckdb.DuckDBPyConnection, sql: str, few: bool) -> pa.Table:
    """The query's result: by a plain execute for a few rows, by a relation otherwise."""
    if few:
        return con.execute(sql).to_arrow_table()
    return con.sql(sql).to_arrow_table()


def _decoded(table: pa.Table) -> pa.Table:
    """The table with its dictionary-encoded columns decoded (to_pylist of a decoded column
    is several times faster than of an encoded one)."""
    return pa.table([_plain(c) for c in table.columns], names=table.column_names)


def _plain(column: pa.ChunkedArray) -> pa.Array:
    """The column as one array of its values (a dictionary-encoded one decoded)."""
    array = _one_array(column)
    return array.dictionary_decode() if pa.types.is_dictionary(array.type) else array


def _taken(values: pa.Array, codes: pa.Array) -> pa.Array:
    """values[codes]: text as a dictionary over the values (no text copied), numbers taken."""
    if pa.types.is_string(values.type) or pa.types.is_large_string(values.type):
        return pa.DictionaryArray.from_arrays(codes, values)
    return values.take(codes)


def _one_array(column: pa.ChunkedArray) -> pa.Array:
    """The column as one array (a dictionary-encoded one kept encoded; one chunk not copied)."""
    return column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)


def _looked_up(array: pa.Array, values: pa.Array, frequencies: pa.Array) -> pa.Array:
    """Per element, the frequency of its value in `values` (distinct, no null), null where the
    element is null or not there. A dictionary-encoded array is looked up by its dictionary's
    values; a few elements (one request's rows) by the values that are theirs, found with one
    scan of `values` rather than a hash table of all of them (some milliseconds each at ten
    million taxpayers, more than the rest of a request's scoring)."""
    if pa.types.is_dictionary(array.type):
        if len(array) * FEW_SHARE >= len(array.dictionary):
            return _looked_up(array.dictionary, values, frequencies).take(array.indices)
        array = array.dictionary_decode()
    if len(array) * FEW_SHARE < len(values):
        held = pc.is_in(values, value_set=array)
        values, frequencies = values.filter(held), frequencies.filter(held)
    return frequencies.take(pc.index_in(array, value_set=values))


def _set_filters(model: dict[str, Any], sets: list[tuple[str, ...]]
                 ) -> tuple[list[str | None], list[tuple[str, ...]]]:
    """Per key set, the SQL (over <column>_l, <column>_r) saying that the filters of one of its
    rules hold, and the columns it reads; None when one of its rules has no filter (its keys
    alone reach the pair)."""
    rules = blocking_rules(model) or []
    filters: list[str | None] = []
    columns: list[tuple[str, ...]] = []
    for keys in sets:
        mine = [r for r in rules if r.keys == keys]
        if not mine or any(not r.filters for r in mine):
            filters.append(None)
            columns.append(())
            continue
        sql = " OR ".join("(" + " AND ".join(f"({sided(f, '{}_l', '{}_r')})" for f in r.filters)
                          + ")" for r in mine)
        filters.append(sql)
        columns.append(tuple(sorted(columns_read(sql, "_l") | columns_read(sql, "_r"))))
    return filters, columns


def _distinct_with_inverse(positions: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """The distinct positions (sorted) and, per position, its index among them. For many
    positions of a table of `size` rows, by marking them in an array of the table's size (a
    binary search of 12 million unsorted positions costs seconds in cache misses)."""
    if len(positions) * 64 < size:
        rows = _distinct(positions)
        return rows, np.searchsorted(rows, positions)
    marked = np.zeros(size, dtype=bool)
    marked[positions] = True
    rows = np.flatnonzero(marked)
    lookup = np.empty(size, dtype=np.int32 if len(rows) < 2**31 else np.int64)
    lookup[rows] = np.arange(len(rows), dtype=lookup.dtype)
    return rows, lookup[positions].astype(np.int64)


def _distinct(values: np.ndarray) -> np.ndarray:
    """The distinct values, sorted (numpy's own unique hashes: several times slower here)."""
    ordered = np.sort(values)
    if len(ordered) == 0:
        return ordered
    keep = np.empty(len(ordered), dtype=bool)
    keep[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=keep[1:])
    return ordered[keep]


def _empty_candidates() -> pa.Table:
    from matchgate.match.engine import _empty_candidates as empty

    return empty()


def model_of(model_path: Path) -> dict[str, Any]:
    return load_model(model_path)
