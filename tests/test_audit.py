"""The hash-chained audit log on real SQLite and PostgreSQL, its verifier, and tin_ref."""

from __future__ import annotations

import hashlib
import itertools
import json
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from matchgate.audit import (
    GENESIS_HASH,
    AuditEvent,
    AuditLog,
    Head,
    SensitiveDetail,
    chain_hash,
    check_chain,
    tin_ref,
)
from matchgate.audit.canonical import Chainer
from matchgate.audit.redact import AUDIT_KEY_ENV, TIN_REF
from matchgate.cli.main import run
from matchgate.errors import InputError
from matchgate.store import Store

KEY = b"k" * 32


def event(n: int, **details: Any) -> AuditEvent:
    return AuditEvent("request.decided", actor=f"user-{n}", role="reviewer", origin="web:10.0.0.9",
                      batch_id="B1", request_id=f"R{n}", agreement_version="2025.1",
                      details={"n": n, "note": "Zoë", **details})


@pytest.fixture
def log(store: Store) -> AuditLog:
    audit = AuditLog(store, key=KEY)
    assert audit.append([event(1), event(2), event(3)]) == 3
    assert audit.append([event(4), event(5)]) == 5
    return audit


def tamper(store: Store, *statements: str) -> None:
    """Change audit_events behind matchgate's back: drop the guarding triggers, then write."""
    drops = (["DROP TRIGGER audit_events_no_update", "DROP TRIGGER audit_events_no_delete"]
             if store.dialect == "sqlite" else
             ["DROP TRIGGER audit_events_no_change ON audit_events"])
    with store.engine.begin() as conn:
        for statement in [*drops, *statements]:
            conn.exec_driver_sql(statement)


# -- appending and verifying -------------------------------------------------------------------

def test_append_chains_events_across_appends(log: AuditLog) -> None:
    rows = log.read()
    assert [r["seq"] for r in rows] == [1, 2, 3, 4, 5]
    assert rows[0]["prev_hash"] == GENESIS_HASH
    assert all(b["prev_hash"] == a["hash"] for a, b in itertools.pairwise(rows))
    assert log.head() == Head(5, rows[-1]["hash"])
    assert json.loads(rows[2]["details"]) == {"n": 3, "note": "Zoë"}
    assert log.verify().ok and log.verify().events == 5
    assert log.append([]) == 5


def test_an_outsider_can_recompute_the_chain(log: AuditLog) -> None:
    """Only hashlib and json, following matchgate.audit.canonical's documentation."""
    with log.store.engine.connect() as conn:
        rows = conn.execute(text("SELECT * FROM audit_events ORDER BY seq")).mappings().all()
    prev = "0" * 64
    for row in rows:
        record = {k: v for k, v in row.items() if k not in ("prev_hash", "hash")}
        canonical = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
        digest = hashlib.sha256(prev.encode("ascii") + canonical.encode("ascii")).hexdigest()
        assert (row["prev_hash"], row["hash"]) == (prev, digest)
        prev = digest


def test_report_for_an_empty_log(store: Store) -> None:
    report = AuditLog(store).verify()
    assert (report.ok, report.events, report.problem) == (True, 0, None)


@pytest.mark.parametrize(("statements", "first_bad", "problem"), [
    (["UPDATE audit_events SET actor = 'someone-else' WHERE seq = 3"], 3, "event 3 was altered"),
    (["UPDATE audit_events SET details = '{\"n\":2}' WHERE seq = 2"], 2, "event 2 was altered"),
    (["DELETE FROM audit_events WHERE seq = 3"], 3, "event 3 is missing (gap between 2 and 4)"),
    (["DELETE FROM audit_events WHERE seq IN (1, 2)"], 1,
     "events 1 to 2 are missing (the log starts at 3)"),
    (["UPDATE audit_events SET seq = -2 WHERE seq = 2",
      "UPDATE audit_events SET seq = 2 WHERE seq = 3",
      "UPDATE audit_events SET seq = 3 WHERE seq = -2"], 2, "events out of order at 2"),
    (["DELETE FROM audit_events WHERE seq = 5"], 5,
     "event 5 is missing (the log ends at 4, the head records 5)"),
    (["DELETE FROM audit_events WHERE seq >= 4"], 4,
     "events 4 to 5 are missing (the log ends at 3, the head records 5)"),
    (["UPDATE audit_events SET prev_hash = hash WHERE seq = 1"], 1, "event 1 was altered"),
], ids=["altered-actor", "altered-details", "removed", "removed-head-of-log", "swapped",
        "truncated-one", "truncated-two", "altered-link"])
def test_tampering_is_caught_and_named(log: AuditLog, statements: list[str], first_bad: int,
                                       problem: str) -> None:
    tamper(log.store, *statements)
    report = log.verify()
    assert (report.ok, report.first_bad_seq, report.problem) == (False, first_bad, problem)


def test_a_forged_event_that_hashes_correctly_breaks_the_link(log: AuditLog) -> None:
    row = log.read(after_seq=2, limit=1)[0]
    forged = {**row, "actor": "forger", "prev_hash": "f" * 64}
    forged["hash"] = chain_hash(forged["prev_hash"], forged)
    tamper(log.store, f"UPDATE audit_events SET actor = 'forger', prev_hash = '{'f' * 64}', "
                      f"hash = '{forged['hash']}' WHERE seq = 3")
    report = log.verify()
    assert (report.first_bad_seq, report.problem) == (3, "hash chain broken at seq 3")


def test_triggers_refuse_update_and_delete(log: AuditLog) -> None:
    refused = ["UPDATE audit_events SET actor = 'x' WHERE seq = 1",
               "DELETE FROM audit_events WHERE seq = 5",
               "DELETE FROM audit_head",
               "UPDATE audit_head SET last_seq = 4"]
    if log.store.dialect == "postgresql":
        refused.append("TRUNCATE audit_events")
    for statement in refused:
        with pytest.raises(DBAPIError, match=r"append-only|cannot be deleted|only move forward"), \
                log.store.writing() as conn:
            conn.execute(text(statement))
    assert log.verify().ok


def test_two_writers_never_fork_the_chain(store_url: str, store: Store) -> None:
    def write(writer: int) -> None:
        with Store.open(store_url) as own:
            audit = AuditLog(own, key=KEY)
            for n in range(10):
                audit.append([event(writer * 1000 + n * 100 + i) for i in range(100)])

    threads = [threading.Thread(target=write, args=(w,)) for w in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    report = AuditLog(store).verify()
    assert (report.ok, report.events) == (True, 2000)


# -- what may be written in details ------------------------------------------------------------

@pytest.mark.parametrize("details", [
    {"tin": "123456789"}, {"matched_tin": "123-45-6789"}, {"outer": {"ssn": 123456789}},
    {"first_name": "Maria"}, {"candidate_last_name": "Garcia"}, {"date_of_birth": "1980-01-02"},
    {"note": "requested 123-45-6789 again"}, {"ids": ["R1", "900701234"]},
])
def test_details_refuse_tins_and_names_in_clear(details: dict[str, Any]) -> None:
    with pytest.raises(SensitiveDetail):
        AuditEvent("request.decided", actor="a", role="r", origin="o", details=details)


def test_details_accept_references_and_ordinary_numbers(store: Store) -> None:
    audit = AuditLog(store, key=KEY)
    ref = audit.tin_ref("900-70-1234")
    ok = AuditEvent("request.decided", actor="a", role="r", origin="o", details={
        "tin": ref, "matched_tin": None, "request": "R000000001", "rows": 123456789,
        "zip": "02139-4307", "batch": "B-2026-000000001"})
    assert audit.append([ok]) == 1


def test_details_changed_after_construction_are_checked_again(store: Store) -> None:
    sneaky = event(1)
    sneaky.details["tin"] = "900701234"
    with pytest.raises(SensitiveDetail):
        AuditLog(store).append([sneaky])
    assert AuditLog(store).verify().events == 0


# -- tin_ref -----------------------------------------------------------------------------------

@given(st.from_regex(r"[0-9]{9}", fullmatch=True))
def test_tin_ref_hides_the_tin_and_keeps_the_last_four(tin: str) -> None:
    ref = tin_ref(tin, key=KEY)
    assert tin not in ref
    assert TIN_REF.fullmatch(ref) and ref.endswith(":" + tin[-4:])
    assert ref == tin_ref(f"{tin[:3]}-{tin[3:5]}-{tin[5:]}", key=KEY)
    assert ref != tin_ref(tin, key=b"another key, 16+ bytes")


def test_tin_ref_key_comes_from_env_or_the_store(store_url: str,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(AUDIT_KEY_ENV, raising=False)
    with Store.open(store_url) as first:
        stored = AuditLog(first).tin_ref("900701234")
    with Store.open(store_url) as second:
        assert AuditLog(second).tin_ref("900701234") == stored  # the store keeps its key
        monkeypatch.setenv(AUDIT_KEY_ENV, "a key from the environment")
        from_env = AuditLog(second).tin_ref("900701234")
    assert from_env == tin_ref("900701234", key=b"a key from the environment") != stored


# -- the pure verifier, on chains made in memory -----------------------------------------------

def make_chain(n: int) -> list[dict[str, Any]]:
    rows, prev = [], GENESIS_HASH
    for seq in range(1, n + 1):
        row = {"seq": seq, "ts": "2026-11-25T00:00:00.000000+00:00", "actor": f"a{seq % 3}",
               "role": "system", "origin": "test", "event_type": "x", "batch_id": None,
               "request_id": None, "outcome": "success", "agreement_version": None,
               "details": "{}", "prev_hash": prev}
        row["hash"] = prev = chain_hash(prev, row)
        rows.append(row)
    return rows


@given(n=st.integers(2, 25), data=st.data())
def test_every_kind_of_tampering_is_found_at_its_place(n: int, data: st.DataObject) -> None:
    rows = make_chain(n)
    head = Head(n, rows[-1]["hash"])
    kind = data.draw(st.sampled_from(["alter", "remove", "swap", "truncate"]))
    k = data.draw(st.integers(1, n - 1))
    if kind == "alter":
        rows[k - 1] = {**rows[k - 1], "outcome": "failure"}
    elif kind == "remove":
        del rows[k - 1]
    elif kind == "swap":
        rows[k - 1], rows[k] = {**rows[k], "seq": k}, {**rows[k - 1], "seq": k + 1}
    else:
        del rows[k:]
    report = check_chain(iter(rows), events=len(rows), head=head)
    expected = {"alter": f"event {k} was altered", "swap": f"events out of order at {k}"}
    assert not report.ok
    assert report.first_bad_seq == (k + 1 if kind == "truncate" else k)
    if kind in expected:
        assert report.problem == expected[kind]
    else:
        assert report.problem is not None and "missing" in report.problem


@given(st.integers(0, 25))
def test_an_untouched_chain_verifies(n: int) -> None:
    rows = make_chain(n)
    head = Head(n, rows[-1]["hash"] if rows else GENESIS_HASH)
    assert check_chain(iter(rows), events=n, head=head).ok


_TEXT = st.text(st.characters(codec="utf-8"), max_size=12)
_FIELDS = st.fixed_dictionaries({
    "seq": st.one_of(st.integers(0, 10**12), st.booleans()), "ts": _TEXT, "actor": _TEXT,
    "role": st.sampled_from(["reviewer", "Zoë"]), "origin": _TEXT,
    "event_type": st.sampled_from(["request.decided", "disclosure"]),
    "batch_id": st.one_of(st.none(), _TEXT), "request_id": st.one_of(st.none(), _TEXT,
                                                                     st.integers()),
    "outcome": st.sampled_from(["success", "failure"]),
    "agreement_version": st.one_of(st.none(), _TEXT), "details": _TEXT})


@given(st.lists(_FIELDS, max_size=6))
def test_the_chainer_hashes_each_event_as_chain_hash(records: list[dict[str, Any]]) -> None:
    """append_in's Chainer (the quoted text of repeated values worked out once) gives the bytes
    of the documented canonical form, values of other types included."""
    chainer, prev = Chainer(GENESIS_HASH), GENESIS_HASH
    for record in records:
        prev = chain_hash(prev, record)
        assert chainer.next(**record) == prev == chainer.prev_hash


# -- the command line --------------------------------------------------------------------------

def run_cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
            *args: str) -> tuple[int, str]:
    monkeypatch.setattr(sys, "argv", ["matchgate", *args])
    with pytest.raises(SystemExit) as exited:
        run()
    captured = capsys.readouterr()
    return int(exited.value.code or 0), captured.out + captured.err


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
        ) -> Iterator[Any]:
    yield lambda *args: run_cli(monkeypatch, capsys, *args)


def test_cli_verify_intact_then_tampered(log: AuditLog, store_url: str, cli: Any,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    code, output = cli("audit", "verify", "--database", store_url)
    assert (code, "5 events, chain intact" in output) == (0, True)
    monkeypatch.setenv("MATCHGATE_DATABASE_URL", store_url)  # the default from Settings
    assert cli("audit", "verify")[0] == 0
    tamper(log.store, "UPDATE audit_events SET outcome = 'failure' WHERE seq = 4")
    code, output = cli("audit", "verify")
    assert code == 4
    assert "event 4 was altered" in output and "Traceback" not in output


def test_cli_verify_without_a_store_is_a_clear_error(tmp_path: Path, cli: Any) -> None:
    code, output = cli("audit", "verify", "--database", f"sqlite:///{tmp_path / 'none.sqlite'}")
    assert code == 3
    assert "no operational store" in output and "Traceback" not in output


@pytest.mark.parametrize("bad", ["12345678", "1234567890", "12345678X", ""])
def test_tin_ref_refuses_what_is_not_a_tin(bad: str) -> None:
    with pytest.raises(InputError):
        tin_ref(bad, key=KEY)
