"""The indexed engine finds the candidates Splink's engine finds, scored alike, on a batch."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from matchgate.intake import read_requests
from matchgate.master.generate import generate
from matchgate.master.load import load_master
from matchgate.match.engine import DuckDBMatchEngine, load_model, make_engine
from matchgate.match.indexed import IndexedMatchEngine
from matchgate.match.keyindex import index_dir_for, key_sql, open_index
from matchgate.match.settings import MODEL_COLUMNS
from matchgate.match.sqlpy import compile_condition
from matchgate.match.train import DEFAULT_MODEL_PATH
from matchgate.pipeline import standardize_requests

# the master store and the standardized requests
Batch = tuple[Path, pa.Table]


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> Batch:
    tmp = tmp_path_factory.mktemp("indexed")
    report = generate(tmp / "g", taxpayers=4000, requests=600, seed=31)
    store = tmp / "store.duckdb"
    load_master(report.master_path, store, workers=1)
    rows = read_requests(report.requests_path).requests
    return store, standardize_requests(rows)


def _rows(table: pa.Table) -> dict[tuple[str, str], dict]:
    return {(r["request_id"], r["tin"]): r for r in table.to_pylist()}


@pytest.mark.parametrize(("cap", "narrow_from"), [(1000, 10**9), (3, 10**9), (1000, 0),
                                                  (3, 0)])
def test_the_indexed_engine_finds_what_splink_finds(batch: Batch, cap: int,
                                                   narrow_from: int) -> None:
    """With the rules' filters applied in blocking (narrow_from 0) or only in scoring."""
    store, table = batch
    splink = _rows(DuckDBMatchEngine(store, key_cap=cap).find_candidates(table))
    engine = IndexedMatchEngine(store, key_cap=cap)
    engine.narrow_from = narrow_from
    indexed = _rows(engine.find_candidates(table))
    assert len(splink) > 150
    assert indexed.keys() == splink.keys()
    for key, expected in splink.items():
        got = indexed[key]
        assert got["match_probability"] == pytest.approx(expected["match_probability"],
                                                         abs=1e-9), key
        assert got["evidence"] == expected["evidence"], key
        assert {k: v for k, v in got.items() if k not in ("match_probability", "match_weight",
                                                          "evidence")} == \
            {k: v for k, v in expected.items() if k not in ("match_probability", "match_weight",
                                                            "evidence")}


def test_a_bulk_chunk_gets_its_evidence_as_a_struct_of_the_same_values(
        batch: Batch, monkeypatch: pytest.MonkeyPatch) -> None:
    """Past FEW_ROWS (a bulk chunk) the evidence comes as a struct, not JSON text: the same
    weights and levels, value for value, and every other column unchanged."""
    from matchgate.match import indexed as indexed_module

    store, table = batch
    engine = IndexedMatchEngine(store)
    as_text = engine.find_candidates(table)
    assert pa.types.is_string(as_text.schema.field("evidence").type)
    monkeypatch.setattr(indexed_module, "FEW_ROWS", 0)
    as_struct = engine.find_candidates(table)
    assert pa.types.is_struct(as_struct.schema.field("evidence").type)
    text, struct = _rows(as_text), _rows(as_struct)
    assert len(text) > 150 and text.keys() == struct.keys()
    for key, row in text.items():
        assert struct[key]["evidence"] == json.loads(row["evidence"]), key
        assert {k: v for k, v in struct[key].items() if k != "evidence"} == \
            {k: v for k, v in row.items() if k != "evidence"}, key


@pytest.mark.parametrize("few_rows", [0, 10**9])
def test_candidates_narrowed_before_their_taxpayers_are_joined_are_those_narrowed_after(
        batch: Batch, monkeypatch: pytest.MonkeyPatch, few_rows: int) -> None:
    """A bulk chunk's caller narrows the best rows before the taxpayers' columns are joined
    (few_rows 0); a few rows are narrowed at the end: either way, what it keeps of the
    candidates, and it sees every candidate, evidence and scores as they are found."""
    from matchgate.match import indexed as indexed_module

    store, table = batch
    monkeypatch.setattr(indexed_module, "FEW_ROWS", few_rows)
    engine = IndexedMatchEngine(store)
    seen: list[pa.Table] = []

    def keep_odd_tins(found: pa.Table) -> pa.Table:
        seen.append(found)
        odd = pa.array([int(t[-1]) % 2 == 1 for t in found.column("tin").to_pylist()])
        return found.filter(odd)

    narrowed = engine.find_candidates(table, narrow=keep_odd_tins)
    everything = engine.find_candidates(table)
    (given,) = seen
    assert given.num_rows == everything.num_rows > 150
    columns = ["request_id", "tin", "match_probability", "match_weight", "evidence",
               "matched_history_year"]
    key = [("request_id", "ascending"), ("tin", "ascending")]
    assert given.select(columns).sort_by(key).equals(everything.select(columns).sort_by(key))
    expected = keep_odd_tins(everything).sort_by(key)
    assert 0 < narrowed.num_rows < everything.num_rows
    assert narrowed.schema == everything.schema
    assert narrowed.sort_by(key).equals(expected)


def test_a_low_cap_leaves_pairs_out(batch: Batch) -> None:
    store, table = batch
    from matchgate.match.inputs import requests_input

    shaped = requests_input(table)
    assert len(IndexedMatchEngine(store, key_cap=3).block(shaped).request) < len(
        IndexedMatchEngine(store).block(shaped).request)


def test_filters_applied_in_blocking_leave_only_pairs_scoring_would_drop(batch: Batch) -> None:
    """The pairs of the filtered rules (a date of birth missing on one side, the same year of
    birth) are cut before any master row is taken: fewer pairs, and none that a rule reaches."""
    store, table = batch
    from matchgate.match.inputs import requests_input

    shaped = requests_input(table)
    engine = IndexedMatchEngine(store)
    engine.narrow_from = 10**9
    whole = engine.block(shaped)
    engine.narrow_from = 0
    narrowed = engine.block(shaped)
    n_rows = len(engine.index.rows.table)
    kept = set((narrowed.request * n_rows + narrowed.position).tolist())
    dropped = sorted(set((whole.request * n_rows + whole.position).tolist()) - kept)
    assert kept <= set((whole.request * n_rows + whole.position).tolist())
    assert len(dropped) >= 50
    rows = engine.index.rows.take(np.asarray([p % n_rows for p in dropped])).to_pylist()
    requests = shaped.to_pylist()
    reached = compile_condition(engine.reached_plain)
    for pair, row in zip(dropped, rows, strict=True):
        request = requests[pair // n_rows]
        request.update({f: bool(v[pair // n_rows]) for f, v in whole.rare.items()})
        row.update(dict.fromkeys(whole.rare, True))
        assert reached(row, request) is not True


def test_the_threshold_is_applied(batch: Batch) -> None:
    store, table = batch
    engine = IndexedMatchEngine(store)
    high = engine.find_candidates(table, threshold_probability=0.9)
    assert 0 < high.num_rows < engine.find_candidates(table).num_rows
    assert min(high.column("match_probability").to_pylist()) >= 0.9


def test_configuration_chooses_the_indexed_engine_by_default(batch: Batch) -> None:
    from matchgate.settings import Settings

    store, _ = batch
    assert Settings().engine == "indexed"
    assert isinstance(make_engine("indexed", store), IndexedMatchEngine)


def test_an_index_of_another_format_is_rebuilt(batch: Batch) -> None:
    store, _ = batch
    engine = IndexedMatchEngine(store)
    folder = index_dir_for(store, engine.master_version)
    manifest = folder / "rules.json"
    held = json.loads(manifest.read_text())
    manifest.write_text(json.dumps({**held, "duckdb": "0.0.0"}))
    with pytest.raises(FileNotFoundError):
        open_index(store, engine.master_version, load_model(DEFAULT_MODEL_PATH), build=False)
    rebuilt = open_index(store, engine.master_version, load_model(DEFAULT_MODEL_PATH))
    assert json.loads((rebuilt.directory / "rules.json").read_text()) == held


def test_requests_without_keys_reach_no_row(batch: Batch) -> None:
    store, table = batch
    engine = IndexedMatchEngine(store)
    assert engine.find_candidates(table.slice(0, 0)).num_rows == 0
    lone = table.slice(0, 1)
    for name in MODEL_COLUMNS:
        lone = lone.set_column(lone.schema.get_field_index(name), name,
                               pa.array([None], type=pa.string()))
    assert engine.find_candidates(lone).num_rows == 0


def test_repeated_columns_are_stored_once_and_read_as_values(batch: Batch) -> None:
    """rows.arrow holds columns of repeated values (the state, the given name)
    dictionary-encoded (a take copies codes, not strings), a column of unique values such as
    the TIN as it is; rows read back as values."""
    store, _ = batch
    index = IndexedMatchEngine(store).index
    schema = index.rows.schema
    assert pa.types.is_dictionary(schema.field("std_state").type)
    assert pa.types.is_dictionary(schema.field("std_first").type)
    assert not pa.types.is_dictionary(schema.field("tin").type)
    assert not pa.types.is_dictionary(schema.field("std_tin").type)
    import duckdb

    with duckdb.connect(str(store), read_only=True) as con:
        expected = con.sql("SELECT row_id, std_state, std_first, std_dob FROM master_history "
                           "WHERE row_id IN (SELECT row_id FROM master_history ORDER BY row_id "
                           "LIMIT 3 OFFSET 100) ORDER BY row_id").fetchall()
    positions = np.searchsorted(index.rows.column("row_id").to_numpy(),
                                [r[0] for r in expected])
    got = index.rows.take(positions).select(["row_id", "std_state", "std_first", "std_dob"])
    assert [tuple(r.values()) for r in got.to_pylist()] == expected


def test_keys_point_at_the_latest_of_a_taxpayers_alike_rows(batch: Batch) -> None:
    """A taxpayer's years with the same name, date of birth and address are one row to the
    pairs: every key of such a row points at the latest of them, and every row a key points
    at is the latest of its kind, stored once per key. The keys still count every row (a key's
    count caps it)."""
    import duckdb

    store, _ = batch
    index = IndexedMatchEngine(store).index
    row_ids = index.rows.column("row_id").to_numpy()
    columns = ", ".join(MODEL_COLUMNS)
    with duckdb.connect(str(store), read_only=True) as con:
        ((total, with_tin),) = con.sql("SELECT count(*), count(std_tin) FROM master_history"
                                       ).fetchall()
        latest = dict(con.sql(f"""
            SELECT row_id, first_value(row_id) OVER (
                PARTITION BY tin, {columns} ORDER BY tax_year DESC) AS latest
            FROM master_history""").fetchall())
    assert len(set(latest.values())) < 0.8 * total  # the generator's taxpayers stay put
    for rule in index.rules:
        pointed = row_ids[np.asarray(rule.positions)]
        assert len(rule.positions) <= total
        assert all(latest[int(r)] == int(r) for r in np.unique(pointed))
    tin_rule = next(r for r in index.rules if r.keys == ("std_tin",))
    # alike rows are one entry, yet a TIN's rows are counted: its number of history rows
    assert len(tin_rule.hashes) < 0.8 * with_tin
    assert int(tin_rule.rows_before[-1]) == with_tin
    with duckdb.connect(str(store), read_only=True) as con:
        per_tin = con.sql("SELECT std_tin, count(*) FROM master_history WHERE std_tin IS NOT "
                          "NULL GROUP BY std_tin ORDER BY std_tin LIMIT 50").fetchall()
    tins = pa.table({"std_tin": [t for t, _ in per_tin]})
    with duckdb.connect() as con:
        con.register("tins", tins)
        hashes = con.sql(f"SELECT {key_sql(('std_tin',))} AS h FROM tins").fetchnumpy()["h"]
    lo, hi = tin_rule.ranges(np.asarray(hashes, dtype=np.uint64))
    assert tin_rule.rows(lo, hi).tolist() == [n for _, n in per_tin]


def test_rows_that_differ_are_never_merged(batch: Batch) -> None:
    """A proposal that pairs rows whose columns differ (as a hash collision would) is refused
    for those rows: each then stands for itself."""
    from matchgate.match.keyindex import canonical_positions

    store, _ = batch
    rows = IndexedMatchEngine(store).index.rows.table
    row_ids = rows.column("row_id").to_numpy()
    wrong = np.arange(len(row_ids), dtype=np.int64)
    wrong[:50] = np.arange(50, 100)  # rows 0..49 claimed alike to rows 50..99: they are not
    first = rows.slice(0, 100).to_pylist()
    differ = [i for i in range(50)
              if any(first[i][c] != first[i + 50][c] for c in MODEL_COLUMNS)]
    assert len(differ) == 50
    got = canonical_positions(rows, wrong)
    assert list(got[:50]) == list(range(50))
    assert list(got[50:]) == list(range(50, len(row_ids)))


def test_alike_rows_are_grouped_by_taxpayer_and_columns_latest_first() -> None:
    """_latest_alike on a small history: the latest year of each alike group (the last row on
    a tie), a row of another taxpayer or other columns on its own; an empty history (every row
    set aside at load) gives nothing."""
    import duckdb

    from matchgate.match.keyindex import _latest_alike

    con = duckdb.connect()
    columns = ", ".join(f"{c} VARCHAR" for c in MODEL_COLUMNS)
    con.execute(f"CREATE TABLE master_history (row_id BIGINT, tin VARCHAR, tax_year INTEGER, "
                f"{columns})")
    assert len(_latest_alike(con)) == 0
    rows = [(10, "A", 2021, "ANN", "1 ELM"), (11, "A", 2023, "ANN", "1 ELM"),
            (12, "A", 2022, "ANN", "2 OAK"), (13, "B", 2023, "ANN", "1 ELM"),
            (14, "A", 2020, "ANN", "1 ELM"), (15, "A", 2019, None, "1 ELM"),
            (16, "C", 2022, "BO", "3 ASH"), (17, "C", 2022, "BO", "3 ASH"),
            (18, "C", 2021, "BO", "3 ASH")]
    con.executemany("INSERT INTO master_history (row_id, tin, tax_year, std_first, "
                    "std_street_name) VALUES (?, ?, ?, ?, ?)", rows)
    # positions in row_id order: 10->0 ... 18->8; C's two rows of 2022 tie: the last one
    assert _latest_alike(con).tolist() == [1, 1, 2, 3, 1, 5, 7, 7, 7]
    # many random groups: each row points at its group's latest year, then last row
    rng = np.random.default_rng(3)
    con.execute("DELETE FROM master_history")
    many = [(n, f"T{rng.integers(40)}", int(rng.integers(2015, 2019)),
             str(rng.integers(2)), None) for n in range(2000)]
    con.executemany("INSERT INTO master_history (row_id, tin, tax_year, std_first, "
                    "std_street_name) VALUES (?, ?, ?, ?, ?)", many)
    best: dict[tuple[str, str], tuple[int, int]] = {}
    for position, (_, tin, year, first, _) in enumerate(many):
        best[(tin, first)] = max(best.get((tin, first), (0, 0)), (year, position))
    assert _latest_alike(con).tolist() == [best[(tin, first)][1]
                                           for _, tin, _, first, _ in many]


def test_key_ranges_looked_up_in_sorted_order_are_those_of_a_plain_search() -> None:
    """RuleKeys.ranges sorts many looked-up hashes before searching: the same [lo, hi) per
    hash, in the order asked, for hashes present (once or many times), absent, repeated, and
    at the ends of the uint64 range."""
    from matchgate.match.keyindex import SORTED_LOOKUP_FROM, RuleKeys

    rng = np.random.default_rng(5)
    stored = np.sort(np.concatenate([
        rng.integers(0, 2**64 - 1, size=5000, dtype=np.uint64),
        np.repeat(np.uint64(12345), 40), np.array([0, 2**64 - 1], dtype=np.uint64)]))
    rule = RuleKeys(("std_last",), stored, np.arange(len(stored), dtype=np.int64),
                    np.arange(len(stored) + 1, dtype=np.int64))
    wanted = np.concatenate([rng.choice(stored, 300), rng.integers(0, 2**64 - 1, size=300,
                                                                    dtype=np.uint64),
                             np.array([12345, 12345, 0, 2**64 - 1], dtype=np.uint64)])
    rng.shuffle(wanted)
    assert len(wanted) >= SORTED_LOOKUP_FROM
    lo, hi = rule.ranges(wanted)
    assert np.array_equal(lo, np.searchsorted(stored, wanted, side="left"))
    assert np.array_equal(hi, np.searchsorted(stored, wanted, side="right"))
    assert (hi - lo)[wanted == 12345].tolist() == [40] * int((wanted == 12345).sum())
    one_lo, one_hi = rule.ranges(wanted[:1])
    assert (one_lo[0], one_hi[0]) == (lo[0], hi[0])


def test_an_entry_repeated_next_to_itself_is_stored_once_and_rows_still_counted() -> None:
    """The index stores an entry equal to the one before it once (a taxpayer's alike rows:
    same key, one position); a repeat further on, or the same position under another key,
    stays; the history rows before each entry keep every key's row count, which caps it."""
    from matchgate.match.keyindex import RuleKeys, without_repeats

    keys = np.array([1, 1, 1, 1, 2, 2, 2, 3, 3], dtype=np.uint64)
    position = np.array([5, 5, 7, 5, 5, 5, 5, 7, 8], dtype=np.int64)
    kept_keys, kept_position, rows_before = without_repeats(keys, position)
    assert list(zip(kept_keys.tolist(), kept_position.tolist(), strict=True)) == \
        [(1, 5), (1, 7), (1, 5), (2, 5), (3, 7), (3, 8)]
    rule = RuleKeys(("k",), kept_keys, kept_position, rows_before)
    wanted = np.array([1, 2, 3, 4], dtype=np.uint64)
    lo, hi = rule.ranges(wanted)
    assert rule.rows(lo, hi).tolist() == [4, 3, 2, 0]  # rows of each key, as stored before
    assert (hi - lo).tolist() == [3, 1, 2, 0]
    one = np.array([3], dtype=np.uint64)
    assert [a.tolist() for a in without_repeats(one, one.astype(np.int64))] == [[3], [3], [0, 1]]
    none = np.array([], dtype=np.uint64)
    assert [len(a) for a in without_repeats(none, none.astype(np.int64))] == [0, 0, 1]


@pytest.mark.parametrize("size", [3, 40, 5000])
@pytest.mark.parametrize("encoded", [False, True])
def test_term_frequencies_looked_up_in_arrow_are_those_of_a_join(size: int,
                                                                 encoded: bool) -> None:
    """Each element's frequency is the one a LEFT JOIN with the term-frequency table gives
    (null for a null element or a value the table does not hold), whether the array is
    dictionary-encoded or not and whether it holds a few elements or many."""
    import duckdb

    from matchgate.match.indexed import _looked_up

    rng = np.random.default_rng(size)
    names = [f"N{n}" for n in range(400)]
    frequencies = pa.table({"v": pa.array(names[:300]),
                            "tf": pa.array(rng.random(300))})
    # a null, a value the table does not hold, one it holds, then any
    picked = [None, "N350", "N7"] + [None if rng.random() < 0.1 else names[int(rng.integers(
        0, 400))] for _ in range(size - 3)]
    array = pa.array(picked, type=pa.string())
    if encoded:
        array = pa.DictionaryArray.from_arrays(
            pa.array([None if v is None else names.index(v) for v in picked], type=pa.int32()),
            pa.array(names))
    got = _looked_up(array, frequencies.column("v").combine_chunks(),
                     frequencies.column("tf").combine_chunks())
    con = duckdb.connect()
    con.register("freq", frequencies)
    con.register("elements", pa.table({"i": pa.array(range(size)), "v": pa.array(picked)}))
    expected = [row[0] for row in con.execute(
        "SELECT f.tf FROM elements e LEFT JOIN freq f ON f.v = e.v ORDER BY e.i").fetchall()]
    assert got.to_pylist() == expected
    assert expected[:2] == [None, None] and expected[2] is not None


def test_master_values_gathered_by_their_codes_are_those_taken_by_rows(batch: Batch) -> None:
    """The rules' filters read master columns per pair (the date of birth): a column stored
    dictionary-encoded is gathered from its codes, any other taken by rows; either gives the
    values taking the rows gives, nulls too."""
    store, _ = batch
    engine = IndexedMatchEngine(store)
    rows = engine.index.rows
    encoded = [c for c in MODEL_COLUMNS if rows.codes(c) is not None]
    assert encoded and rows.codes("row_id") is None
    rng = np.random.default_rng(3)
    position = rng.integers(0, len(rows.table), size=5000)
    for column in [*encoded, "std_dob"]:
        values = engine._master_values((column,), position)[0]
        taken = rows.take(position, [column]).column(column)
        if pa.types.is_dictionary(values.type):
            values = values.dictionary_decode()
        if pa.types.is_dictionary(taken.type):
            taken = taken.combine_chunks().dictionary_decode()
        assert values.to_pylist() == taken.to_pylist(), column
    assert any(rows.take(position, [c]).column(c).null_count for c in encoded)


def test_hoisted_columns_worked_out_per_value_are_those_of_each_row(batch: Batch) -> None:
    """The scorer's hoisted columns (functions of one master column) worked out once per
    dictionary value and taken back by code are the values the query computes row by row,
    for null values too (CONCAT of a null is not null). (A bulk chunk's candidates, which are
    scored so, are those of a single request's path: the struct-evidence test above.)"""
    store, _ = batch
    engine = IndexedMatchEngine(store)
    rows = engine.index.rows
    position = np.random.default_rng(5).integers(0, len(rows.table), size=6000)
    master = rows.take(position)
    con = engine.con.cursor()
    hoisted, given = engine._hoisted_by_value(con, master)
    names = list(engine.scorer.hoister.columns.values())
    assert given and given <= set(names)
    con.register("master_rows", master)
    expected = con.sql(f"SELECT {', '.join(names)} FROM {engine._with_hoisted('master_rows')}"
                       ).to_arrow_table()
    # given ones by value; the query computes the others (the sample's dates are nearly all
    # distinct, so they are stored as values, not codes)
    con.register("hoisted_rows", hoisted)
    rest = con.sql(f"SELECT {', '.join(names)} FROM "
                   f"{engine._with_hoisted('hoisted_rows', given)}").to_arrow_table()
    for name in names:
        assert rest.column(name).to_pylist() == expected.column(name).to_pylist(), name
    for name in given:
        got = hoisted.column(name).combine_chunks()
        if pa.types.is_dictionary(got.type):
            got = got.dictionary_decode()
        assert got.to_pylist() == expected.column(name).to_pylist(), name
    assert any(master.column(engine._hoisted_sources[n] or "").null_count for n in given)

