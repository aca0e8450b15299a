"""The record stage alone: N synthetic decisions (a third disclosing, with accounting records)
and their audit events (request.decided, which carries the gate's pass since session 12, and
disclosure) written per chunk of 50,000 in one transaction each, as the pipeline records them,
on SQLite (a file) and on PostgreSQL.

    PYTHONPATH=src:. python -m bench.record.run --requests 100000 [--postgres URL]

Runs on the code at PYTHONPATH: a matchgate without `record_decisions(..., also=...)` (before
the record path was made one transaction and bulk) is measured its own way, events first, then
the decisions, so the same script compares the two. Results merge into bench/results/record.json
keyed by code version and backend, with the load average at start and end.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import random
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection, make_url

from matchgate.audit import AuditEvent, AuditLog
from matchgate.store import Store

RESULTS = Path(__file__).resolve().parents[1] / "results" / "record.json"
CHUNK = 50_000


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def decisions(n: int, seed: int = 7) -> list[dict[str, Any]]:
    rnd = random.Random(seed)
    out = []
    for i in range(n):
        disclosing = rnd.random() < 0.35
        weights = {k: round(rnd.uniform(-5, 9), 3) for k in
                   ("first_name", "last_name", "dob", "street", "zip", "middle_initial")}
        out.append({
            "request_id": f"R{i:07d}", "code": "VERIFIED" if disclosing else "NO_MATCH",
            "reason": "match_single" if disclosing else "no_candidate",
            "matched_tin": f"{rnd.randrange(10**8, 10**9)}" if disclosing else None,
            "match_probability": rnd.random() if disclosing else None,
            "runner_up_probability": None, "disclosed": {},
            "evidence": {"match_weights": weights, "gamma": {k: rnd.randint(-1, 4)
                                                             for k in weights}},
            "agreement_version": "v1", "master_version": "m1", "decided_by": "matchgate"})
    return out


def run(url: str, n: int) -> float:
    store = Store.open(url)
    log = AuditLog(store, key=b"k" * 32)
    rows = decisions(n)
    store.create_batch(batch_id="B", agreement_id="A", agreement_version="v1", manifest={},
                       source_name="x", row_count=n, submitted_by="")
    store.add_requests(batch_id="B", rows=[{"request_id": d["request_id"], "row_number": i,
                                            "payload": {"first_name": "Ana"},
                                            "dedupe_key": d["request_id"]}
                                           for i, d in enumerate(rows)])
    one_transaction = "also" in inspect.signature(store.record_decisions).parameters

    def ev(kind: str, rid: str, details: dict[str, Any]) -> AuditEvent:
        return AuditEvent(kind, actor="bench", role="service", origin="bench", batch_id="B",
                          request_id=rid, agreement_version="v1", details=details)

    started = time.monotonic()
    for start in range(0, n, CHUNK):
        part = rows[start:start + CHUNK]
        events: list[AuditEvent] = []
        accounting: list[dict[str, Any]] = []
        for d in part:
            details: dict[str, Any] = {"gate": "passed", "code": d["code"],
                                       "reason": d["reason"], "candidates": 2}
            if d["matched_tin"]:
                details["taxpayer"] = log.tin_ref(d["matched_tin"])
            events.append(ev("request.decided", d["request_id"], details))
            if d["matched_tin"]:
                events.append(ev("disclosure", d["request_id"], {
                    "taxpayer": details["taxpayer"], "fields": ["verification_code"]}))
                accounting.append({
                    "taxpayer_tin": d["matched_tin"], "recipient_agency": "X",
                    "legal_basis": "6103(i)(2)", "statutory_authority": "S", "purpose": "P",
                    "request_id": d["request_id"], "batch_id": "B", "agreement_id": "A",
                    "agreement_version": "v1", "approved_by": "matchgate (automatic)",
                    "disclosed_fields": "verification_code"})
        if one_transaction:
            def write_events(conn: Connection, e: list[AuditEvent] = events) -> int:
                return log.append_in(conn, e)

            store.record_decisions(batch_id="B", decisions=part, accounting=accounting,
                                   also=write_events)
        else:
            log.append(events)
            store.record_decisions(batch_id="B", decisions=part, accounting=accounting)
    seconds = time.monotonic() - started
    assert log.verify().ok
    store.close()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--label", default=None, help="name of the code version measured")
    args = parser.parse_args()
    label = args.label or ("one transaction, bulk"
                           if "also" in inspect.signature(Store.record_decisions).parameters
                           else "before")
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    with tempfile.TemporaryDirectory() as tmp:
        figures = {"sqlite": (load_average(), run(f"sqlite:///{tmp}/r.sqlite", args.requests))}
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(args.postgres, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        url = make_url(args.postgres).update_query_dict({"options": f"-csearch_path={schema}"})
        figures["postgresql"] = (load_average(),
                                 run(url.render_as_string(hide_password=False), args.requests))
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
    for backend, (load, seconds) in figures.items():
        results[f"{label} / {backend} / {args.requests}"] = {
            "code": label, "backend": backend, "requests": args.requests,
            "seconds": round(seconds, 2), "load_average_start": load,
            "load_average_end": load_average()}
        print(f"{label:24} {backend:10} {args.requests:>8} requests: {seconds:6.2f} s "
              f"(load {load})")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
