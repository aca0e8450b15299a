"""The operational store on real SQLite and PostgreSQL (see conftest.store_url)."""

from __future__ import annotations

import json
import math
import threading
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, select

from matchgate.errors import InputError, StoreError
from matchgate.respond import RESPONSE_SOURCE
from matchgate.store import Store, StoreConflict, StoreNotFound, migrate
from matchgate.store.engine import json_value, make_engine, parse_url
from matchgate.store.models import DECISIONS, REQUESTS, Base

TABLES = {"batches", "requests", "decisions", "audit_events", "audit_head", "store_meta",
          "alembic_version"}


def new_batch(store: Store, batch_id: str = "B1", agreement_id: str = "AG-1",
              rows: int = 3) -> None:
    store.create_batch(batch_id=batch_id, agreement_id=agreement_id, agreement_version="2025.1",
                       manifest={"agreement_id": agreement_id, "legal_basis": "6103(i)(2)"},
                       source_name=f"{batch_id}.csv", row_count=rows, submitted_by="agency-7")
    store.add_requests(batch_id=batch_id, rows=[
        {"request_id": f"R{i}", "row_number": i, "payload": {"first_name": f"N{i}", "zip": "02139"},
         "dedupe_key": f"key-{i}"} for i in range(1, rows + 1)])


def decision(request_id: str, code: str = "NO_MATCH", reason: str | None = "no_candidate",
             **extra: Any) -> dict[str, Any]:
    return {"request_id": request_id, "code": code, "reason": reason, "matched_tin": None,
            "match_probability": 0.12, "runner_up_probability": None, "disclosed": {},
            "evidence": {"name": -1.5}, "agreement_version": "2025.1",
            "master_version": "m-2025-10", "decided_by": "pipeline", **extra}


def count(store: Store, table: Any) -> int:
    with store.reading() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


# -- schema ------------------------------------------------------------------------------------

def test_migrations_create_every_table_at_head(store: Store) -> None:
    assert store.table_names() >= TABLES
    assert migrate.current_revision(store.engine) == migrate.head_revision()


def test_models_agree_with_migrations(store: Store) -> None:
    with store.engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diffs == []


def test_upgrade_from_an_earlier_revision_and_reopen(store_url: str) -> None:
    engine = make_engine(parse_url(store_url))
    try:
        migrate.upgrade(engine, "0001")
        assert migrate.current_revision(engine) == "0001"
    finally:
        engine.dispose()
    with pytest.raises(StoreError, match="revision 0001"):
        Store.open(store_url, create=False)
    with Store.open(store_url) as store:
        assert store.table_names() >= TABLES
    with Store.open(store_url, create=False) as again:
        assert migrate.current_revision(again.engine) == migrate.head_revision()


def test_missing_sqlite_file_is_a_store_error_when_not_creating(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no operational store"):
        Store.open(f"sqlite:///{tmp_path / 'absent.sqlite'}", create=False)
    assert not (tmp_path / "absent.sqlite").exists()


# -- batches and requests ----------------------------------------------------------------------

def test_one_request_payload_by_its_key(store: Store) -> None:
    new_batch(store)
    first = store.requests_for_batch(batch_id="B1")[0]
    assert store.request_payload(batch_id="B1", request_id=first["request_id"]) == \
        first["payload"]
    assert store.request_payload(batch_id="B1", request_id="nope") is None
    assert store.request_payload(batch_id="B2", request_id=first["request_id"]) is None


def test_batch_and_requests_round_trip(store: Store) -> None:
    new_batch(store)
    batch = store.get_batch(batch_id="B1")
    assert batch is not None
    assert batch["manifest"] == {"agreement_id": "AG-1", "legal_basis": "6103(i)(2)"}
    assert (batch["status"], batch["row_count"], batch["finished_at"]) == ("received", 3, None)
    assert isinstance(batch["created_at"], datetime) and batch["created_at"].utcoffset() is not None
    requests = store.requests_for_batch(batch_id="B1")
    assert [r["request_id"] for r in requests] == ["R1", "R2", "R3"]
    assert requests[1] == {"request_id": "R2", "row_number": 2,
                           "payload": {"first_name": "N2", "zip": "02139"}, "dedupe_key": "key-2"}
    assert store.get_batch(batch_id="nope") is None


def test_batch_id_is_unique(store: Store) -> None:
    new_batch(store)
    with pytest.raises(StoreConflict, match="already exists"):
        new_batch(store)


def test_requests_are_stored_all_or_none(store: Store) -> None:
    new_batch(store)
    rows = [{"request_id": "R9", "row_number": 9, "payload": {}, "dedupe_key": None},
            {"request_id": "R2", "row_number": 10, "payload": {}, "dedupe_key": None}]
    with pytest.raises(StoreConflict, match="'R2'"):
        store.add_requests(batch_id="B1", rows=rows)
    assert count(store, REQUESTS) == 3
    with pytest.raises(StoreNotFound):
        store.add_requests(batch_id="missing", rows=rows[:1])


def test_batch_status_moves_forward_and_records_finish(store: Store) -> None:
    new_batch(store)
    store.set_batch_status(batch_id="B1", status="running")
    store.set_batch_status(batch_id="B1", status="done", master_version="m-2025-10")
    batch = store.get_batch(batch_id="B1")
    assert batch is not None
    assert (batch["status"], batch["master_version"]) == ("done", "m-2025-10")
    assert batch["finished_at"] >= batch["created_at"]
    with pytest.raises(StoreConflict, match="is done"):
        store.set_batch_status(batch_id="B1", status="running")
    with pytest.raises(ValueError, match="unknown batch status"):
        store.set_batch_status(batch_id="B1", status="paused")


# -- decisions ---------------------------------------------------------------------------------

def test_decisions_round_trip_in_row_order(store: Store) -> None:
    new_batch(store)
    store.record_decisions(batch_id="B1", decisions=[
        decision("R3"), decision("R1", code="ADDRESS_DIFFERS", reason="match_address_differs",
                                 matched_tin="900701234", match_probability=0.998,
                                 runner_up_probability=0.01,
                                 disclosed={"street": "12 ELM ST", "zip": "02139"})])
    assert store.decided_request_ids(batch_id="B1") == {"R1", "R3"}
    rows = store.decisions_for_batch(batch_id="B1")
    assert [r["request_id"] for r in rows] == ["R1", "R3"]
    first = rows[0]
    assert (first["code"], first["matched_tin"], first["match_probability"]) == \
        ("ADDRESS_DIFFERS", "900701234", 0.998)
    assert first["disclosed"] == {"street": "12 ELM ST", "zip": "02139"}
    assert rows[1]["evidence"] == {"name": -1.5}
    assert first["decided_at"].utcoffset() is not None
    # only the columns asked for (what a response file reads), the same values, in row order
    only = store.decisions_for_batch(batch_id="B1", only=("request_id", "code", "disclosed"))
    assert only == [{k: r[k] for k in ("request_id", "code", "disclosed")} for r in rows]


def test_a_response_files_source_is_each_decision_in_row_order(store: Store) -> None:
    """response_source (the driver's own cursor, tuples) gives what decisions_for_batch gives
    for the columns a response file shows: the same values, odd JSON included, in the order of
    the batch's rows, and only this batch's."""
    new_batch(store)
    store.record_decisions(batch_id="B1", decisions=[
        decision("R3", reason=None),
        decision("R2", code="ADDRESS_DIFFERS", reason="match_address_differs",
                 matched_tin="900701234", disclosed={"street": "12 ELM ST", "zip": None}),
        decision("R1", disclosed=ODD_JSON)])
    source = store.response_source(batch_id="B1")
    expected = store.decisions_for_batch(batch_id="B1", only=RESPONSE_SOURCE)
    assert source == [tuple(d[k] for k in RESPONSE_SOURCE) for d in expected]
    assert [s[0] for s in source] == ["R1", "R2", "R3"]  # the batch's row order
    assert source[0][3] == ODD_JSON and isinstance(source[0][3]["big"], int)
    assert source[2][2] is None and source[2][3] == {}
    assert store.response_source(batch_id="B-other") == []


ODD_JSON: dict[str, Any] = {"big": 2**70, "float": 0.30000000000000004,
                            "text": "Zo\u00eb \U0001F600", "empty": {},
                            "nested": [1, {"none": None, "neg": -1.5e-300}]}


def test_json_columns_read_back_as_written(store: Store) -> None:
    """orjson reads the JSON columns, json.loads what orjson would read otherwise (it turns an
    integer beyond 64 bits, which json.dumps writes, into a float) or refuses (NaN): every value
    comes back exactly."""
    new_batch(store)
    store.record_decisions(batch_id="B1", decisions=[decision("R1", evidence=ODD_JSON)])
    (row,) = store.decisions_for_batch(batch_id="B1")
    assert row["evidence"] == ODD_JSON and isinstance(row["evidence"]["big"], int)
    assert json_value(json.dumps(ODD_JSON)) == ODD_JSON
    assert math.isnan(json_value("NaN")) and json_value(b'{"a":[]}') == {"a": []}


def test_a_request_cannot_be_decided_twice(store: Store) -> None:
    new_batch(store)
    store.record_decisions(batch_id="B1", decisions=[decision("R1")])
    with pytest.raises(StoreConflict, match="already decided: 'R1'"):
        store.record_decisions(batch_id="B1", decisions=[decision("R2"), decision("R1",
                               code="VERIFIED", reason="match_single")])
    assert store.decided_request_ids(batch_id="B1") == {"R1"}  # R2 was not written either
    assert store.decisions_for_batch(batch_id="B1")[0]["code"] == "NO_MATCH"
    with pytest.raises(StoreConflict, match="more than one decision"):
        store.record_decisions(batch_id="B1", decisions=[decision("R3"), decision("R3")])


def test_racing_writers_answer_a_request_once(store_url: str, store: Store) -> None:
    new_batch(store)
    outcomes: list[str] = []

    def answer(code: str, reason: str) -> None:
        with Store.open(store_url) as own:
            try:
                own.record_decisions(batch_id="B1", decisions=[decision("R1", code, reason)])
                outcomes.append("stored")
            except StoreConflict:
                outcomes.append("conflict")

    threads = [threading.Thread(target=answer, args=args) for args in
               [("NO_MATCH", "no_candidate"), ("AMBIGUOUS", "runner_up_close")] * 2]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict", "conflict", "conflict", "stored"]
    assert count(store, DECISIONS) == 1


def test_decisions_need_known_requests_and_codes(store: Store) -> None:
    new_batch(store)
    with pytest.raises(StoreNotFound, match="'R99'"):
        store.record_decisions(batch_id="B1", decisions=[decision("R99")])
    with pytest.raises(InputError) as caught:
        store.record_decisions(batch_id="B1", decisions=[
            decision("R1", code="MAYBE"), decision("R2", code="VERIFIED", reason="no_candidate")])
    assert len(caught.value.problems) == 2
    assert count(store, DECISIONS) == 0


def test_prior_dedupe_keys_finds_the_earlier_decided_request(store: Store) -> None:
    new_batch(store, "B1")
    store.record_decisions(batch_id="B1", decisions=[decision("R1"), decision("R3")])
    new_batch(store, "B2")  # same keys key-1..key-3, not decided
    store.record_decisions(batch_id="B2", decisions=[decision("R1")])
    new_batch(store, "B3", agreement_id="AG-2")
    store.record_decisions(batch_id="B3", decisions=[decision("R2")])

    found = store.prior_dedupe_keys(agreement_id="AG-1", keys=["key-1", "key-2", "key-3", "x"],
                                    exclude_batch="B2")
    assert found == {"key-1": ("B1", "R1"), "key-3": ("B1", "R3")}
    # the earliest decision wins even when a later batch holds the key too
    assert store.prior_dedupe_keys(agreement_id="AG-1", keys={"key-1"}, exclude_batch=None) == \
        {"key-1": ("B1", "R1")}
    assert store.prior_dedupe_keys(agreement_id="AG-1", keys=["key-1"], exclude_batch="B1") == \
        {"key-1": ("B2", "R1")}
    assert store.prior_dedupe_keys(agreement_id="AG-2", keys=["key-2"], exclude_batch=None) == \
        {"key-2": ("B3", "R2")}
    many = [f"k{i}" for i in range(2_000)] + ["key-3"]
    assert store.prior_dedupe_keys(agreement_id="AG-1", keys=many, exclude_batch=None) == \
        {"key-3": ("B1", "R3")}


def test_unreachable_or_foreign_databases_are_store_errors(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="cannot open the operational store"):
        Store.open("postgresql+psycopg://postgres@127.0.0.1:1/test", create=False)
    junk = tmp_path / "junk.sqlite"
    junk.write_text("not a database")
    with pytest.raises(StoreError, match="not a database"):
        Store.open(f"sqlite:///{junk}", create=False)
    with pytest.raises(StoreError, match="unsupported database"):
        Store.open("mysql://localhost/x")


def test_in_memory_sqlite_store_works() -> None:
    with Store.open("sqlite://") as store:
        new_batch(store)
        assert len(store.requests_for_batch(batch_id="B1")) == 3
