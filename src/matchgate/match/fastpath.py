"""The fast path for one request: a candidate index of our own, scored with the model's weights.

Splink's per-call prediction scans the whole master (seconds at 10 million rows). The index here
is built once per master version, into a folder next to the store:
- rows.arrow: the master history's model columns (plus tin, tax_year), sorted by row_id, an
  uncompressed Arrow IPC file that is memory-mapped (no load time, pages shared by processes);
- taxpayers.arrow: the taxpayers table (sorted by TIN), memory-mapped likewise;
- keys_<n>.npy / pos_<n>.npy: per blocking rule of the model, DuckDB's hash of the rule's key
  columns for every row, sorted, with the row's position in rows.arrow;
- tf_<column>.parquet: the master's term frequencies (as the bulk engine registers them).

A request is standardized, its rule keys hashed with the same DuckDB function, the candidate
rows found by binary search, and the pairs scored: the gamma levels by the model's own SQL
conditions (DuckDB, in memory, a few dozen rows), the match weight from the model's m and u per
level, term-frequency adjustments and prior exactly as Splink computes them.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from matchgate.master.store import open_master
from matchgate.match.blocking import BLOCK_KEY_CAP, blocking_keys, blocking_predicate, reached_by
from matchgate.match.engine import load_model, master_term_frequencies, tf_columns
from matchgate.match.scoring import ModelScorer
from matchgate.match.settings import MODEL_COLUMNS

ROW_COLUMNS = ("row_id", "tin", "tax_year", *MODEL_COLUMNS)
TAXPAYER_COLUMNS = ("tin", "tin_type", "last_street", "last_unit", "last_city", "last_state",
                    "last_zip", "std_first", "std_first_canon", "std_last", "std_suffix",
                    "std_dob", "std_house", "std_street_name", "std_unit", "std_zip5")


def index_dir_for(store_path: Path, master_version: str) -> Path:
    return store_path.with_name(store_path.name + ".lookup") / master_version


BLOCK_ROWS = 1 << 16  # rows per record batch of the IPC files: position // BLOCK_ROWS finds it


def _write_ipc(reader: pa.RecordBatchReader, path: Path) -> None:
    """The reader's rows in record batches of exactly BLOCK_ROWS rows (the last one shorter)."""
    pending: list[pa.RecordBatch] = []
    held = 0
    with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, reader.schema) as writer:
        for batch in reader:
            pending.append(batch)
            held += batch.num_rows
            while held >= BLOCK_ROWS:
                table = pa.Table.from_batches(pending, schema=reader.schema)
                writer.write_table(table.slice(0, BLOCK_ROWS).combine_chunks())
                rest = table.slice(BLOCK_ROWS)
                pending, held = rest.to_batches(), rest.num_rows
        if held:
            rest = pa.Table.from_batches(pending, schema=reader.schema)
            writer.write_table(rest.combine_chunks())


class BlockFile:
    """A memory-mapped IPC file of BLOCK_ROWS-row batches, read row by position."""

    def __init__(self, path: Path) -> None:
        self.reader = pa.ipc.open_file(pa.memory_map(str(path), "r"))
        self.schema = self.reader.schema

    def column(self, name: str) -> pa.ChunkedArray:
        return self.reader.read_all().column(name)

    def take(self, positions: np.ndarray) -> pa.Table:
        """The rows at the given positions, in that order."""
        if len(positions) == 0:
            return self.schema.empty_table()
        blocks = positions // BLOCK_ROWS
        parts = []
        for block in np.unique(blocks):
            batch = self.reader.get_batch(int(block))
            offsets = positions[blocks == block] - block * BLOCK_ROWS
            parts.append(batch.take(pa.array(offsets, type=pa.int64())))
        table = pa.Table.from_batches(parts)
        order = np.argsort(np.argsort(blocks, kind="stable"), kind="stable")
        return table.take(pa.array(order, type=pa.int64()))


KEY_SEP = "\x1f"


def _key_sql(keys: tuple[str, ...]) -> str:
    return f"concat_ws('{KEY_SEP}', {', '.join(keys)})"


def request_key(request: dict[str, Any], keys: tuple[str, ...]) -> str | None:
    """The request's key for one rule, or None when one of its columns is missing."""
    values = [request.get(k) for k in keys]
    if any(v is None for v in values):
        return None
    return KEY_SEP.join(str(v) for v in values)


def build_index(store_path: Path, model: dict[str, Any], target: Path) -> None:
    """Write the index files into target (built in a sibling folder, then renamed)."""
    keys = blocking_keys(model)
    if keys is None:
        raise ValueError("the model has a blocking rule that is not plain equalities")
    tmp = target.with_name(target.name + ".building")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    with open_master(store_path) as store:
        con = store.cursor()
        _write_ipc(con.sql(f"SELECT {', '.join(ROW_COLUMNS)} FROM master_history "
                           f"ORDER BY row_id").arrow(), tmp / "rows.arrow")
        _write_ipc(con.sql(f"SELECT {', '.join(TAXPAYER_COLUMNS)} FROM taxpayers ORDER BY tin"
                           ).arrow(), tmp / "taxpayers.arrow")
        for n, rule in enumerate(keys):
            present = " AND ".join(f"{k} IS NOT NULL" for k in rule)
            _write_ipc(con.sql(
                f"SELECT {_key_sql(rule)} AS key, pos FROM (SELECT *, row_number() OVER "
                f"(ORDER BY row_id) - 1 AS pos FROM master_history) WHERE {present} "
                f"ORDER BY key, pos").arrow(), tmp / f"keys_{n}.arrow")
        for column, table in master_term_frequencies(con, tf_columns(model)).items():
            pq.write_table(table, tmp / f"tf_{column}.parquet")
    (tmp / "rules.json").write_text(json.dumps([list(k) for k in keys]))
    shutil.rmtree(target, ignore_errors=True)
    tmp.rename(target)


@dataclass
class _Rule:
    """One blocking rule's sorted keys (memory-mapped) and the row position of each."""

    keys: tuple[str, ...]
    sorted_keys: pa.ChunkedArray  # of strings, memory-mapped
    positions: pa.ChunkedArray  # of int64, memory-mapped

    def positions_of(self, key: str, cap: int | None = None) -> np.ndarray | None:
        """The positions of the rows with this key; None when more than `cap` rows hold it
        (a frequent key, which the rule does not block on)."""
        lo = _bisect(self.sorted_keys, key, right=False)
        hi = _bisect(self.sorted_keys, key, right=True)
        if cap is not None and hi - lo > cap:
            return None
        return np.asarray(self.positions[lo:hi].to_numpy(zero_copy_only=False))


def _bisect(values: pa.ChunkedArray, key: str, *, right: bool) -> int:
    lo, hi = 0, len(values)
    while lo < hi:
        mid = (lo + hi) // 2
        here = values[mid].as_py()
        if here < key or (right and here == key):
            lo = mid + 1
        else:
            hi = mid
    return lo


def _rule(path: Path, keys: tuple[str, ...]) -> _Rule:
    # left in its record batches: combining them would copy the whole file into memory
    table = pa.ipc.open_file(pa.memory_map(str(path), "r")).read_all()
    return _Rule(keys, table.column("key"), table.column("pos"))


class FastPath:
    """Candidates for single requests (standardized, one row per request) in milliseconds."""

    def __init__(self, store_path: Path, model_path: Path | None = None, *,
                 build: bool = True, key_cap: int = BLOCK_KEY_CAP) -> None:
        from matchgate.match.train import DEFAULT_MODEL_PATH

        self.store_path = Path(store_path)
        self.key_cap = key_cap
        self._reached: dict[frozenset[int], str] = {}
        with open_master(self.store_path) as store:
            self.master_version = store.meta().master_version
        self.model = load_model(model_path or DEFAULT_MODEL_PATH)
        self.directory = index_dir_for(self.store_path, self.master_version)
        if not self._index_current():
            if not build:
                raise FileNotFoundError(self.directory)
            build_index(self.store_path, self.model, self.directory)
        self._open()

    def _index_current(self) -> bool:
        """The index exists and was built for the model's blocking keys and term-frequency
        columns."""
        rules = self.directory / "rules.json"
        keys = blocking_keys(self.model) or []
        return (rules.is_file() and json.loads(rules.read_text()) == [list(k) for k in keys]
                and all((self.directory / f"tf_{c}.parquet").is_file()
                        for c in tf_columns(self.model)))

    def _open(self) -> None:
        d = self.directory
        rules = [tuple(r) for r in json.loads((d / "rules.json").read_text())]
        self.rules = [_rule(d / f"keys_{n}.arrow", keys) for n, keys in enumerate(rules)]
        self.rows = BlockFile(d / "rows.arrow")
        self.taxpayers = BlockFile(d / "taxpayers.arrow")
        self.taxpayer_tins = np.asarray(self.taxpayers.column("tin").to_numpy(
            zero_copy_only=False)).astype("S9")
        tf = {p.stem[3:]: pq.read_table(p) for p in d.glob("tf_*.parquet")}
        self.con = duckdb.connect()
        self.scorer = ModelScorer(self.model, self.con, tf,
                                  reached=blocking_predicate(self.model, "{}_l", "{}_r"))

    def blocked(self, request: dict[str, Any]) -> tuple[np.ndarray, frozenset[int]]:
        """Positions of the master rows that share every key of some blocking rule with the
        request (SQL equality: a missing key never pairs), and the rules left out because the
        request's key is frequent in the master (blocking.BLOCK_KEY_CAP)."""
        found: list[np.ndarray] = []
        capped: set[int] = set()
        for n, rule in enumerate(self.rules):
            key = request_key(request, rule.keys)
            if key is not None:
                positions = rule.positions_of(key, self.key_cap)
                if positions is None:
                    capped.add(n)
                else:
                    found.append(positions)
        if not found:
            return np.empty(0, dtype=np.int64), frozenset(capped)
        return np.unique(np.concatenate(found)), frozenset(capped)

    def positions(self, request: dict[str, Any]) -> np.ndarray:
        return self.blocked(request)[0]

    def candidate_rows(self, request: dict[str, Any]) -> pa.Table:
        return self.rows.take(self.positions(request))

    def _reached_sql(self, capped: frozenset[int]) -> str | None:
        """The blocking predicate without the capped rules (None: the scorer's own)."""
        if not capped:
            return None
        if capped not in self._reached:
            self._reached[capped] = reached_by(self.model, set(capped), "{}_l", "{}_r")
        return self._reached[capped]

    def taxpayer_rows(self, tins: list[str]) -> pa.Table:
        wanted = np.asarray(tins, dtype="S9")
        positions = np.searchsorted(self.taxpayer_tins, wanted)
        return self.taxpayers.take(positions)

    def find_candidates(self, request: dict[str, Any], *,
                        threshold_probability: float = 0.01) -> list[dict[str, Any]]:
        """Candidate rows as the bulk engine gives them (CANDIDATE_COLUMNS), best first."""
        positions, capped = self.blocked(request)
        rows = self.rows.take(positions)
        if rows.num_rows == 0:
            return []
        scored = self.scorer.score(request, rows, reached=self._reached_sql(capped))
        best: dict[str, dict[str, Any]] = {}
        for row in scored:
            if row["match_probability"] < threshold_probability:
                continue
            held = best.get(row["tin"])
            if held is None or (row["match_weight"], row["tax_year"]) > (
                    held["match_weight"], held["tax_year"]):
                best[row["tin"]] = row
        if not best:
            return []
        people = {t["tin"]: t for t in self.taxpayer_rows(sorted(best)).to_pylist()}
        out = [_candidate(request, best[tin], people[tin]) for tin in best]
        out.sort(key=lambda c: (-c["match_weight"], c["tin"]))
        return out


def _same_address(request: dict[str, Any], person: dict[str, Any]) -> bool:
    same = all(request.get(k) is not None and request.get(k) == person.get(k)
               for k in ("std_house", "std_street_name", "std_zip5"))
    unit_r, unit_t = request.get("std_unit"), person.get("std_unit")
    return same and (unit_r is None or unit_t is None or unit_r == unit_t)


def _candidate(request: dict[str, Any], row: dict[str, Any], person: dict[str, Any]
               ) -> dict[str, Any]:
    household = " ".join(v for v in (person.get("std_house"), person.get("std_street_name"),
                                     person.get("std_unit"), person.get("std_zip5"))
                         if v is not None)
    evidence = {"match_weights": {c: round(w, 4) for c, w in row["weights"].items()},
                "gamma": row["gamma"]}
    return {
        "request_id": request["request_id"], "tin": row["tin"],
        "tin_type": person["tin_type"], "match_probability": row["match_probability"],
        "match_weight": row["match_weight"], "evidence": json.dumps(evidence),
        **{f"last_{f}": person[f"last_{f}"] for f in ("street", "unit", "city", "state", "zip")},
        **{k: person[k] for k in ("std_first", "std_first_canon", "std_last", "std_suffix",
                                  "std_dob")},
        "household_key": household, "address_is_last_known": _same_address(request, person),
        "matched_history_year": row["tax_year"],
    }
