"""POST /api/v1/requests on the fast path records what the bulk path records for one request.

"Before" is what the route did until it moved to the fast path: the one-row batch job run by
the worker with the bulk engine (Splink over the master store). Both run on stores of their own
(the gate would answer a repeated request DUPLICATE in one store), and every stored record of
the request is compared: the decision row, the accounting record and the audit events.
"""

from __future__ import annotations

import csv
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from matchgate.api import batch_ops, create_app
from matchgate.api.routes_batches import _one_row_csv
from matchgate.api.single import FastPathEngine
from matchgate.audit import AuditLog
from matchgate.codes import DISCLOSING_CODES
from matchgate.examples import example_path
from matchgate.intake import load_manifest
from matchgate.master.generate import GenerateReport, generate
from matchgate.service import Services
from matchgate.settings import Settings
from matchgate.store import Store
from matchgate.store.models import AUDIT_EVENTS, DECISIONS, DISCLOSURE_ACCOUNTING
from matchgate.users import User, add_user
from matchgate.worker import Worker

AGENCY = "Immigration enforcement agency"
REQUESTS = 12


@pytest.fixture(scope="module")
def population(tmp_path_factory: pytest.TempPathFactory) -> GenerateReport:
    return generate(tmp_path_factory.mktemp("gen"), taxpayers=400, requests=REQUESTS, seed=31)


def open_services(home: Path, url: str, master: Path) -> Services:
    services = Services.open(Settings(home=home, database_url=url, match_store=master))
    services.load_agreement(example_path("agreement.toml"))
    return services


def rows_of(population: GenerateReport) -> list[dict[str, str | None]]:
    with population.requests_path.open(newline="", encoding="utf-8") as fh:
        return [{k: v or None for k, v in r.items()} for r in csv.DictReader(fh)]


def recorded(store: Store, batch_id: str) -> dict[str, Any]:
    """Every record of the batch, without times, sequence numbers, hashes and store-specific
    TIN references (the audit log's keyed hash differs between stores: shown as TIN-REF), with
    floats rounded."""
    with store.reading() as conn:
        decisions = [dict(r) for r in conn.execute(
            select(DECISIONS).where(DECISIONS.c.batch_id == batch_id)).mappings()]
        accounting = [dict(r) for r in conn.execute(
            select(DISCLOSURE_ACCOUNTING).where(DISCLOSURE_ACCOUNTING.c.batch_id == batch_id)
        ).mappings()]
        events = [dict(r) for r in conn.execute(
            select(AUDIT_EVENTS).where(AUDIT_EVENTS.c.batch_id == batch_id)
            .order_by(AUDIT_EVENTS.c.seq)).mappings()]
    refs = {AuditLog(store).tin_ref(d["matched_tin"]) for d in decisions if d["matched_tin"]}
    for row in decisions:
        row.pop("decided_at")
    for row in accounting:
        row.pop("id"), row.pop("disclosed_at")
    shown = []
    for event in events:
        details = event["details"]
        for ref in refs:
            details = details.replace(ref, "TIN-REF")
        parsed = json.loads(details)
        parsed.pop("seconds", None)  # batch.completed: how long each stage took
        shown.append({k: event[k] for k in ("actor", "role", "origin", "event_type",
                                            "request_id", "outcome", "agreement_version")}
                     | {"details": parsed})
    return rounded({"decisions": decisions, "accounting": accounting, "events": shown})


def rounded(value: Any) -> Any:
    """Floats to 9 decimals: the two engines sum the same weights in another order, so a
    match weight may differ in its last bit (22.844574701099994 and 22.84457470109999)."""
    if isinstance(value, float):
        return round(value, 9)
    if isinstance(value, dict):
        return {k: rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [rounded(v) for v in value]
    return value


@pytest.fixture
def stores(store_url: str, tmp_path: Path, master: Path) -> Iterator[tuple[Services, Services]]:
    fast = open_services(tmp_path / "fast", store_url, master)
    bulk = open_services(tmp_path / "bulk", f"sqlite:///{tmp_path / 'bulk.sqlite'}", master)
    yield fast, bulk
    fast.store.close()
    bulk.store.close()


def test_single_requests_record_what_the_bulk_path_records(
        stores: tuple[Services, Services], population: GenerateReport) -> None:
    fast, bulk = stores
    token = add_user(fast.store, name="req-1", role="requester", agency=AGENCY)
    user = User(name="req-1", role="requester", agency=AGENCY)
    terms = load_manifest(population.manifest_path)
    manifest = terms.model_dump_json(exclude_none=True).encode()
    codes = []
    app = create_app(fast.settings, services=fast)
    with TestClient(app) as client:
        for row in rows_of(population):
            r = client.post("/api/v1/requests", headers={"Authorization": f"Bearer {token}"},
                            json={"manifest": terms.model_dump(mode="json", exclude_none=True),
                                  "request": row})
            assert r.status_code == 200, r.text
            answer = r.json()
            assert answer["status"] == "done" and answer["response"]["request_id"] == \
                row["request_id"]
            # before: the same one-row job, run by the worker on the bulk engine
            job, created = batch_ops.submit(
                bulk, user, source_name="request.csv", content=_one_row_csv(row),
                manifest_name="manifest.json", manifest_bytes=manifest, idempotency_key=None)
            assert created and job["batch_id"] == answer["batch_id"]
            assert Worker(bulk, name="api:req-1").run_once(batch_id=job["batch_id"]) == \
                job["batch_id"]
            expected = recorded(bulk.store, job["batch_id"])
            assert recorded(fast.store, answer["batch_id"]) == expected, row["request_id"]
            assert len(expected["decisions"]) == 1
            codes.append(expected["decisions"][0]["code"])
            assert answer["response"]["code"] == codes[-1]
    # the comparison covered disclosures (with their accounting) and other answers
    assert any(c in {d.value for d in DISCLOSING_CODES} for c in codes), codes
    assert len(set(codes)) >= 3, codes
    # the API used the fast path, opened once for the master version
    engine = app.state.fastpaths.engine()
    assert isinstance(engine, FastPathEngine) and engine is app.state.fastpaths.engine()


def test_evidence_parsed_by_duckdb_or_json_gives_the_same_candidates(
        master: Path, population: GenerateReport) -> None:
    """A chunk's evidence is parsed by DuckDB, a single request's few rows by json.loads: the
    candidates are the same either way."""
    from matchgate.intake import read_requests
    from matchgate.match.engine import DuckDBMatchEngine
    from matchgate.pipeline import (
        PARSE_IN_DUCKDB_FROM,
        candidate_from_row,
        standardize_requests,
        with_parsed_evidence,
    )

    found = DuckDBMatchEngine(master).find_candidates(
        standardize_requests(read_requests(population.requests_path).requests))
    assert 0 < found.num_rows < PARSE_IN_DUCKDB_FROM
    assert with_parsed_evidence(found) is found  # few rows: left as text
    many = pa.concat_tables([found] * (PARSE_IN_DUCKDB_FROM // found.num_rows + 1))
    parsed = with_parsed_evidence(many)
    assert parsed.schema.field("evidence").type != pa.string()
    assert [candidate_from_row(r) for r in parsed.to_pylist()] == \
        [candidate_from_row(r) for r in many.to_pylist()]
    # read in arrays (struct evidence) or row by row (text): the same candidates, facts,
    # weights and evidence
    from matchgate.decide import Candidate
    from matchgate.pipeline import candidates_by_request, struct_rows

    by_struct = candidates_by_request(parsed)
    by_row = [candidate_from_row(r) for r in many.to_pylist()]
    flat = [c for rid in by_struct for c in by_struct[rid]]
    assert all(type(c.evidence) is dict for c in flat)
    evidence = parsed.column("evidence").combine_chunks()
    assert struct_rows(evidence) == evidence.to_pylist()
    assert struct_rows(evidence.slice(3, 40)) == evidence.slice(3, 40).to_pylist()
    def order(c: Candidate) -> tuple[str, float, str, str]:
        return (c.tin, c.match_weight, c.std_dob or "", c.household_key or "")

    assert sorted(flat, key=order) == sorted(by_row, key=order)
    for got in flat:
        same = [c for c in by_row if c == got]
        assert same and all(dict(got.evidence) == c.evidence for c in same)
        assert got.name_weight == same[0].name_weight and got.dob_heaped == same[0].dob_heaped


def test_a_single_request_a_worker_claimed_first_is_answered_once_it_finishes(
        stores: tuple[Services, Services], population: GenerateReport) -> None:
    """A batch worker may claim the one-request job between its submission and the API's own
    claim: the API then waits for that worker's answer instead of answering 'running'."""
    import threading
    import time
    from datetime import timedelta

    from matchgate.store import jobs

    fast, _ = stores
    token = add_user(fast.store, name="req-2", role="requester", agency=AGENCY)
    user = User(name="req-2", role="requester", agency=AGENCY)
    terms = load_manifest(population.manifest_path)
    row = rows_of(population)[0]
    job, _ = batch_ops.submit(
        fast, user, source_name="request.csv", content=_one_row_csv(row),
        manifest_name="manifest.json", manifest_bytes=terms.model_dump_json(
            exclude_none=True).encode(), idempotency_key=None)
    worker = Worker(fast, name="worker:elsewhere")
    assert jobs.claim_job(fast.store, worker=worker.name, lease=timedelta(minutes=1),
                          batch_id=job["batch_id"]) == job["batch_id"]

    def elsewhere() -> None:
        time.sleep(1.0)
        worker.process(job["batch_id"])
        jobs.finish_job(fast.store, batch_id=job["batch_id"], worker=worker.name)

    thread = threading.Thread(target=elsewhere)
    thread.start()
    with TestClient(create_app(fast.settings, services=fast)) as client:
        r = client.post("/api/v1/requests", headers={"Authorization": f"Bearer {token}"},
                        json={"manifest": terms.model_dump(mode="json", exclude_none=True),
                              "request": row})
    thread.join()
    assert r.status_code == 200, r.text
    answer = r.json()
    assert answer["batch_id"] == job["batch_id"] and answer["status"] == "done"
    assert answer["response"]["request_id"] == row["request_id"]
    assert fast.store.decided_request_ids(batch_id=job["batch_id"]) == {row["request_id"]}


def test_struct_rows_read_nested_structs_and_nulls_as_to_pylist() -> None:
    from matchgate.pipeline import struct_rows

    array = pa.array([{"a": {"x": 1, "y": None}, "b": 2.5}, None,
                      {"a": None, "b": None}, {"a": {"x": -1, "y": 0.1 + 0.2}, "b": 1e-300}])
    assert struct_rows(array) == array.to_pylist()
    assert struct_rows(array.slice(1, 3)) == array.slice(1, 3).to_pylist()
    assert struct_rows(array.slice(0, 0)) == []


def test_candidates_with_the_same_levels_share_their_gamma_only_when_none_is_null() -> None:
    """_evidences: one gamma dict per combination of levels, equal to what struct_rows reads;
    a null level (or anything beside the weights and levels) takes struct_rows itself."""
    from matchgate.pipeline import _evidences, level_combinations, struct_rows

    def read(rows: list[dict]) -> tuple[list[dict], list[dict | None]]:
        evidence = pa.array(rows)
        _, combinations, inverse = level_combinations(evidence.field("gamma"))
        return _evidences(evidence, combinations, inverse.tolist()), struct_rows(evidence)

    rows: list[dict[str, Any]] = [
        {"match_weights": {"a": 1.5, "b": -2.0}, "gamma": {"a": 3, "b": 0}},
        {"match_weights": {"a": 0.25, "b": None}, "gamma": {"a": 3, "b": 0}},
        {"match_weights": {"a": 1.5, "b": -2.0}, "gamma": {"a": 1, "b": -1}}]
    shared, expected = read(rows)
    assert shared == expected
    assert shared[0]["gamma"] is shared[1]["gamma"]  # the same levels: one dict
    assert shared[0]["gamma"] is not shared[2]["gamma"]
    rows[2]["gamma"]["b"] = None  # a null level is not -1: read as it is
    with_null, expected = read(rows)
    assert with_null == expected and with_null[2]["gamma"]["b"] is None
    extra = [{**r, "note": "x"} for r in rows[:2]]
    assert read(extra)[0] == read(extra)[1]


def test_a_candidate_made_without_its_init_equals_one_made_by_it() -> None:
    """_candidate skips the frozen dataclass's __init__ only when every field is given; the
    candidate is the same object as Candidate(**values) builds, still frozen, and values that are
    not exactly the fields go to the constructor (which fills defaults or refuses)."""
    import dataclasses

    from matchgate.decide import Candidate
    from matchgate.pipeline import _CANDIDATE_FIELDS, _candidate

    built = Candidate(tin="900000001", match_probability=0.97, match_weight=8.5,
                      address_is_last_known=True, corroborated_by=frozenset({"dob"}),
                      given_name_agrees=True, surname_agrees=True)
    values = {f.name: getattr(built, f.name) for f in dataclasses.fields(Candidate)}
    assert values.keys() == _CANDIDATE_FIELDS
    fast = _candidate(values)
    assert fast == built and type(fast) is Candidate and hash(fast) == hash(built)
    with pytest.raises(dataclasses.FrozenInstanceError):
        fast.tin = "other"  # type: ignore[misc]
    required: dict[str, Any] = {"tin": "900000002", "match_probability": 0.5,
                                "match_weight": 0.0, "address_is_last_known": False}
    defaults = _candidate(dict(required))  # some fields left out: the constructor fills them
    assert defaults == Candidate(**required)
    with pytest.raises(TypeError):
        _candidate({**values, "not_a_field": 1})


def test_the_service_warms_the_fast_path_up_when_it_starts(
        stores: tuple[Services, Services], tmp_path: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    fast, _ = stores
    app = create_app(fast.settings, services=fast)
    with caplog.at_level(logging.INFO, logger="matchgate.api.single"), TestClient(app):
        app.state.warm_up.join(timeout=300)
        fastpaths = app.state.fastpaths
        assert fastpaths.warmed is not None, caplog.text
        assert fastpaths.engine() is fastpaths.engine()  # opened once, by the warm-up
    assert "fast path warmed up" in caplog.text
    # not asked for, or no master store to warm up: nothing runs
    off = create_app(fast.settings.model_copy(update={"warm_up": False}), services=fast)
    missing = create_app(fast.settings.model_copy(update={"match_store": tmp_path / "none"}),
                         services=fast)
    for app in (off, missing):
        with TestClient(app):
            assert not hasattr(app.state, "warm_up")


def test_a_master_store_that_cannot_be_opened_leaves_a_warning_not_a_dead_service(
        stores: tuple[Services, Services], tmp_path: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    fast, _ = stores
    broken = tmp_path / "broken.duckdb"
    broken.write_bytes(b"not a DuckDB file")
    app = create_app(fast.settings.model_copy(update={"match_store": broken}), services=fast)
    with caplog.at_level(logging.INFO, logger="matchgate.api.single"), \
            TestClient(app) as client:
        app.state.warm_up.join(timeout=60)
        assert client.get("/openapi.json").status_code == 200
    assert app.state.fastpaths.warmed is None
    assert "the fast path was not warmed up" in caplog.text
