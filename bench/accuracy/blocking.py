"""Blocking recall: the share of true pairs (a request and its taxpayer) that at least one of
the model's blocking rules lets through to scoring."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa


def blocking_recall(store_path: Path, std_requests: pa.Table, model: Mapping[str, Any],
                    truth: Mapping[str, Mapping[str, str | None]]) -> dict[str, Any]:
    """std_requests: request_id and the std_* columns. Over requests about taxpayers."""
    rules = [r["blocking_rule"] for r in model["blocking_rules_to_generate_predictions"]]
    pairs = pa.table({"request_id": [k for k, t in truth.items()
                                     if t.get("category") == "in_master"],
                      "true_tin": [t.get("true_tin") for t in truth.values()
                                   if t.get("category") == "in_master"]})
    con = duckdb.connect()
    try:
        con.sql(f"ATTACH '{store_path}' AS s (READ_ONLY)")
        con.register("req", std_requests)
        con.register("pairs", pairs)
        any_rule = " OR ".join(f"({r})" for r in rules)
        rows = con.sql(f"""
            SELECT p.request_id, coalesce(bool_or({any_rule}), FALSE)
            FROM pairs p JOIN req r ON r.request_id = p.request_id
            LEFT JOIN s.master_history l ON l.tin = p.true_tin
            GROUP BY p.request_id""").fetchall()
    finally:
        con.close()
    missed = sorted(rid for rid, ok in rows if not ok)
    return {"true_pairs": len(rows), "reached_scoring": len(rows) - len(missed),
            "recall": (len(rows) - len(missed)) / len(rows) if rows else 1.0,
            "missed_examples": missed[:20]}
