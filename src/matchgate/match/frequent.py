"""The master's frequent blocking keys (blocking.BLOCK_KEY_CAP), computed once per master
version and blocking rules, and kept next to the store
(`<store>.blocking/<version>/frequent-<cap>-<rules hash>.parquet`; in memory only when that
folder cannot be written). Columns: g (the index of the rule's key tuple in key_sets) and the
key columns (null where a tuple does not use them)."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from matchgate.master.store import open_master
from matchgate.match.blocking import frequent_keys_sql, key_sets


def frequent_dir_for(store_path: Path, master_version: str) -> Path:
    """The folder of a master version's frequent keys (one file per cap and set of rules)."""
    return store_path.with_name(store_path.name + ".blocking") / master_version


def frequent_path(store_path: Path, master_version: str, keys: list[tuple[str, ...]],
                  cap: int) -> Path:
    digest = hashlib.sha256(json.dumps([list(k) for k in key_sets(keys)]).encode())
    return (frequent_dir_for(store_path, master_version) /
            f"frequent-{cap}-{digest.hexdigest()[:12]}.parquet")


def frequent_keys(store_path: Path, master_version: str, keys: list[tuple[str, ...]],
                  cap: int) -> pa.Table:
    """The frequent key values of the master (read from the cache file, or computed and
    written there)."""
    path = frequent_path(store_path, master_version, keys, cap)
    if path.is_file():
        return pq.read_table(path)
    with open_master(store_path) as store:
        table = store.cursor().sql(frequent_keys_sql(keys, "master_history", cap)
                                   ).to_arrow_table()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
        pq.write_table(table, partial)
        partial.replace(path)
    except OSError:
        pass  # a read-only place: computed again by the next process
    return table
