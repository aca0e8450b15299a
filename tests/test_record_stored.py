"""What the record stage stores, value for value: a few requests received, one rejected, three
decided (one disclosure of an address, one of the code alone, one no match), read back from
SQLite as stored. The expected rows were taken from the record path before its bulk work was
made faster: a change to any stored decision, audit event or accounting record fails here. (The
JSON columns became compact text, orjson's, in December 2026: the documents are the same.)"""
# ruff: noqa: E501  (the stored JSON documents are pinned verbatim, one string each)

from __future__ import annotations

import hashlib
import sqlite3
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from matchgate.agreement import load_agreement
from matchgate.audit import AuditLog
from matchgate.audit.redact import AUDIT_KEY_ENV
from matchgate.codes import Code
from matchgate.columns import REQUEST_COLUMNS
from matchgate.decide import Candidate, Decision
from matchgate.examples import example_path
from matchgate.gate import reject
from matchgate.intake import load_manifest, read_requests
from matchgate.pipeline import Actor, BatchRun
from matchgate.store import Store

WEIGHTS = {"first_name": 3.25, "last_name": 7.5, "dob": 6.0, "address": 0.1 + 0.2}
GAMMA = {"first_name": 4, "last_name": 3, "dob": 2, "address": 1, "tin": -1}
ADDRESS = {"street": "1 Elm St", "unit": None, "city": "Troy", "state": "NY", "zip": "12180"}


class Engine:
    """The match engine as the record stage sees it: its master file's version."""

    master_version = "M-test"


def candidate(tin: str, probability: float, weight: float, **extra: Any) -> Candidate:
    return Candidate(tin=tin, match_probability=probability, match_weight=weight,
                     address_is_last_known=True, last_address=dict(ADDRESS),
                     evidence={"match_weights": dict(WEIGHTS), "gamma": dict(GAMMA)}, **extra)


def request_file(folder: Path) -> Path:
    path = folder / "requests.csv"
    rows = [{c: "" for c in REQUEST_COLUMNS} | {
        "request_id": f"R{n}", "first_name": "Zoë", "last_name": "Ngata",
        "statutory_authority": "8 U.S.C. 1253(a)(1)", "reason": f"Case {n}: a final order."}
        for n in range(1, 5)]
    lines = [",".join(REQUEST_COLUMNS)] + [",".join(r[c] for c in REQUEST_COLUMNS)
                                           for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def stored(run: BatchRun, table: str, skip: tuple[str, ...], order: str
           ) -> list[tuple[Any, ...]]:
    """The table's rows as stored, but for the columns skipped (times, hashes of times); the
    batch id and the agreement's version (hashes of the example files) as placeholders."""
    names = {run.batch_id: "<batch>", run.agreement_version: "<agreement version>"}
    db = run.store.engine.url.database
    assert db is not None
    with sqlite3.connect(db) as con:
        columns = [r[1] for r in con.execute(f"PRAGMA table_info({table})") if r[1] not in skip]
        return [tuple(names.get(v, v) if isinstance(v, str) else v for v in row)
                for row in con.execute(f"SELECT {', '.join(columns)} FROM {table} "
                                       f"ORDER BY {order}")]


@pytest.fixture
def recorded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> BatchRun:
    monkeypatch.setenv(AUDIT_KEY_ENV, "k" * 32)
    store = Store.open(f"sqlite:///{tmp_path / 'matchgate.sqlite'}")
    requests = request_file(tmp_path)
    engine: Any = Engine()
    run = BatchRun(requests_path=requests, manifest=load_manifest(example_path("manifest.toml")),
                   agreement=load_agreement(example_path("agreement.toml")), store=store,
                   engine=engine, responses_path=tmp_path / "responses.csv",
                   actor=Actor(name="tester"), today=date(2026, 1, 15))
    rows = read_requests(requests).requests
    run._store_batch(rows)
    run._fields = {r.request_id: r.fields for r in rows}
    run._record_rejections(rows, {"R4": reject("missing_tax_periods", "tax_periods")})
    best, rival = candidate("900000001", 0.999, 19.25), candidate("900000002", 0.42, 3.5)
    moved = candidate("900000003", 0.98, 15.0, household_key="2 OAK AVE")
    decisions = [
        Decision("R1", Code.VERIFIED, "match_single", "900000001", 0.999, 0.42, best),
        Decision("R2", Code.ADDRESS_DIFFERS, "match_address_differs", "900000003", 0.98, None,
                 moved),
        Decision("R3", Code.NO_MATCH, "below_threshold", None, None, None, None),
    ]
    candidates = {"R1": [rival, best], "R2": [moved], "R3": [rival]}
    run._record_decisions(decisions, candidates, {"R1": 2, "R2": 1, "R3": 1})
    assert AuditLog(store).verify().ok
    return run


EXPECTED_DECISIONS: list[tuple[Any, ...]] = [
    ('<batch>', 'R1', 'VERIFIED', 'match_single', '900000001', 0.999, 0.42, '{}',
     '{"match_weights":{"first_name":3.25,"last_name":7.5,"dob":6.0,'
     '"address":0.30000000000000004},"gamma":{"first_name":4,"last_name":3,"dob":2,'
     '"address":1,"tin":-1},"candidates":[{"tin":"900000001","match_probability":0.999,'
     '"match_weight":19.25,"match_weights":{"first_name":3.25,"last_name":7.5,"dob":6.0,'
     '"address":0.30000000000000004},"gamma":{"first_name":4,"last_name":3,"dob":2,'
     '"address":1,"tin":-1}},{"tin":"900000002","match_probability":0.42,"match_weight":3.5,'
     '"match_weights":{"first_name":3.25,"last_name":7.5,"dob":6.0,'
     '"address":0.30000000000000004},"gamma":{"first_name":4,"last_name":3,"dob":2,'
     '"address":1,"tin":-1}}]}',
     '<agreement version>', 'M-test', 'matchgate'),
    ('<batch>', 'R2', 'ADDRESS_DIFFERS', 'match_address_differs', '900000003', 0.98, None,
     '{"street":"1 Elm St","unit":null,"city":"Troy","state":"NY","zip":"12180"}',
     '{"match_weights":{"first_name":3.25,"last_name":7.5,"dob":6.0,'
     '"address":0.30000000000000004},"gamma":{"first_name":4,"last_name":3,"dob":2,'
     '"address":1,"tin":-1},"candidates":[{"tin":"900000003","match_probability":0.98,'
     '"match_weight":15.0,"match_weights":{"first_name":3.25,"last_name":7.5,"dob":6.0,'
     '"address":0.30000000000000004},"gamma":{"first_name":4,"last_name":3,"dob":2,'
     '"address":1,"tin":-1}}]}',
     '<agreement version>', 'M-test', 'matchgate'),
    ('<batch>', 'R3', 'NO_MATCH', 'below_threshold', None, None, None, '{}',
     '{"candidates":[{"tin":"900000002","match_probability":0.42,"match_weight":3.5,'
     '"match_weights":{"first_name":3.25,"last_name":7.5,"dob":6.0,'
     '"address":0.30000000000000004},"gamma":{"first_name":4,"last_name":3,"dob":2,'
     '"address":1,"tin":-1}}]}',
     '<agreement version>', 'M-test', 'matchgate'),
    ('<batch>', 'R4', 'REJECTED_INSUFFICIENT', 'missing_tax_periods', None, None, None, '{}',
     '{"detail":"the taxable period(s) are missing (6103(i)(2)(B)(ii)) (field \'tax_periods\')"}',
     '<agreement version>', 'M-test', 'matchgate'),
]

RECEIVED = hashlib.sha256(b'"R1"\n"R2"\n"R3"\n"R4"\n').hexdigest()
EXPECTED_EVENTS: list[tuple[Any, ...]] = [
    # the batch's receipt is one event: the digest of its request_ids in row order stands for
    # each of them (audit/digests.py)
    (1, 'tester', 'disclosure_officer', 'cli', 'batch.received', '<batch>', None, 'success',
     '<agreement version>', f'{{"requests_sha256":"{RECEIVED}","rows":4,"source":"requests.csv"}}'),
    (2, 'tester', 'disclosure_officer', 'cli', 'request.gated', '<batch>', 'R4', 'failure',
     '<agreement version>', '{"field":"tax_periods","reason":"missing_tax_periods"}'),
    # a request the gate let through has no request.gated event: its request.decided says
    # "gate": "passed" (one verdict event per request)
    (3, 'tester', 'disclosure_officer', 'cli', 'request.decided', '<batch>', 'R1', 'success',
     '<agreement version>',
     '{"candidates":2,"code":"VERIFIED","gate":"passed","match_probability":0.999,"reason":"match_single","taxpayer":"tinref:accda7583dc2b8117d48b12c3bc7d36d:0001"}'),
    (4, 'tester', 'disclosure_officer', 'cli', 'disclosure', '<batch>', 'R1', 'success',
     '<agreement version>',
     '{"fields":["verification_code"],"legal_basis":"6103(i)(2)","recipient":"Immigration '
     'enforcement agency","taxpayer":"tinref:accda7583dc2b8117d48b12c3bc7d36d:0001"}'),
    (5, 'tester', 'disclosure_officer', 'cli', 'request.decided', '<batch>', 'R2', 'success',
     '<agreement version>',
     '{"candidates":1,"code":"ADDRESS_DIFFERS","gate":"passed","match_probability":0.98,"reason":"match_address_differs","taxpayer":"tinref:e50512d1cb5ee852d4ac97ae944752e9:0003"}'),
    (6, 'tester', 'disclosure_officer', 'cli', 'disclosure', '<batch>', 'R2', 'success',
     '<agreement version>',
     '{"fields":["city","state","street","unit","zip"],"legal_basis":"6103(i)(2)","recipient":"Immigration '
     'enforcement agency","taxpayer":"tinref:e50512d1cb5ee852d4ac97ae944752e9:0003"}'),
    (7, 'tester', 'disclosure_officer', 'cli', 'request.decided', '<batch>', 'R3', 'success',
     '<agreement version>', '{"candidates":1,"code":"NO_MATCH","gate":"passed","reason":"below_threshold"}'),
]

EXPECTED_ACCOUNTING: list[tuple[Any, ...]] = [
    (1, '900000001', 'Immigration enforcement agency', '6103(i)(2)', '8 U.S.C. 1253(a)(1)',
     'Case 1: a final order.', 'R1', '<batch>', 'IE-TAX-2025-001', '<agreement version>',
     'matchgate (automatic)', 'verification_code', None),
    (2, '900000003', 'Immigration enforcement agency', '6103(i)(2)', '8 U.S.C. 1253(a)(1)',
     'Case 2: a final order.', 'R2', '<batch>', 'IE-TAX-2025-001', '<agreement version>',
     'matchgate (automatic)', 'last_known_address', None),
]


def test_decisions_are_stored_as_before(recorded: BatchRun) -> None:
    got = stored(recorded, "decisions", ("decided_at",), "request_id")
    assert got == EXPECTED_DECISIONS


def test_audit_events_are_stored_as_before(recorded: BatchRun) -> None:
    got = stored(recorded, "audit_events", ("ts", "prev_hash", "hash"), "seq")
    assert got == EXPECTED_EVENTS


def test_accounting_records_are_stored_as_before(recorded: BatchRun) -> None:
    got = stored(recorded, "disclosure_accounting", ("disclosed_at",), "id")
    assert got == EXPECTED_ACCOUNTING
