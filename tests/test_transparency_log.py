"""The audit log as a transparency log: checkpoints in the store, the export, and the offline
verifier catching every kind of tampering with the export."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.exc import DBAPIError

from matchgate.audit import AuditEvent, AuditLog, chain_hash
from matchgate.audit import tlog as tlog_module
from matchgate.audit.canonical import GENESIS_HASH
from matchgate.audit.export import export_log
from matchgate.audit.offline import Export, recomputed_leaves, verify_export, verify_records
from matchgate.audit.tlog import Signer, TransparencyLog
from matchgate.errors import StoreError
from matchgate.settings import Settings
from matchgate.store import Store
from matchgate.store.migrate import alembic_config, current_revision, upgrade
from matchgate.transparency import (
    Checkpoint,
    generate_key,
    load_public_key,
    public_key_path,
    root,
    sign_checkpoint,
)

ORIGIN = "test.custodian/audit-log"


def event(n: int) -> AuditEvent:
    return AuditEvent("request.decided", actor="officer", role="disclosure_officer", origin="cli",
                      batch_id="B1", request_id=f"R{n}", agreement_version="v1",
                      details={"n": n, "note": "Zoë"})


@pytest.fixture
def key_path(tmp_path: Path) -> Path:
    path = tmp_path / "keys" / "signing.key"
    path.parent.mkdir()
    generate_key(path)
    return path


@pytest.fixture
def signer(key_path: Path) -> Signer:
    return Signer.from_settings(Settings(home=key_path.parent, signing_key=key_path,
                                         log_origin=ORIGIN))


@pytest.fixture
def logged(store: Store, signer: Signer) -> Store:
    """Three batches of events, a checkpoint after each."""
    audit, tlog = AuditLog(store, key=b"k" * 32), TransparencyLog(store)
    n = 0
    for size in (3, 5, 4):
        audit.append([event(n + i + 1) for i in range(size)])
        n += size
        tlog.checkpoint(signer, reason=f"batch {n}")
    return store


def test_checkpoints_extend_each_other_and_match_the_events(logged: Store) -> None:
    cps = TransparencyLog(logged).checkpoints()
    assert [c["tree_size"] for c in cps] == [3, 8, 12]
    events = AuditLog(logged).read(limit=100)
    leaves = recomputed_leaves(events)
    assert [bytes.fromhex(c["root"]) for c in cps] == [root(leaves[:n]) for n in (3, 8, 12)]


def test_checkpoint_of_an_empty_log_and_repeated(store: Store, signer: Signer) -> None:
    tlog = TransparencyLog(store)
    first = tlog.checkpoint(signer, reason="empty")
    again = tlog.checkpoint(signer, reason="again")
    assert (first.tree_size, again.tree_size) == (0, 0)
    assert first.root == again.root == root([])


def test_a_checkpoint_reads_the_events_in_blocks(store: Store, signer: Signer,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tlog_module, "HASHES_PER_FETCH", 4)
    AuditLog(store, key=b"k" * 32).append([event(n) for n in range(1, 11)])
    made = TransparencyLog(store).checkpoint(signer, reason="blocks of four")
    assert made.tree_size == 10
    assert made.root == root(recomputed_leaves(AuditLog(store).read(limit=100)))


@pytest.mark.parametrize("missing", [1, 4, 5, 6, 10])
def test_no_checkpoint_over_a_removed_event(store: Store, signer: Signer,
                                            monkeypatch: pytest.MonkeyPatch,
                                            missing: int) -> None:
    """Someone with the database disables the append-only trigger and removes an event: no
    checkpoint is made over the gap, and the error names the event (first, last, at and
    beside the ends of a block read)."""
    monkeypatch.setattr(tlog_module, "HASHES_PER_FETCH", 4)
    AuditLog(store, key=b"k" * 32).append([event(n) for n in range(1, 11)])
    with store.engine.begin() as conn:
        if store.dialect == "postgresql":
            conn.exec_driver_sql("ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_change")
        else:
            conn.exec_driver_sql("DROP TRIGGER audit_events_no_delete")
        conn.exec_driver_sql(f"DELETE FROM audit_events WHERE seq = {missing}")
    expected = (f"audit event {missing} is missing" if missing < 10
                else "the audit log ends at event 9, its head says 10")
    with pytest.raises(StoreError, match=expected):
        TransparencyLog(store).checkpoint(signer, reason="over a gap")
    assert TransparencyLog(store).checkpoints() == []


def test_checkpoints_refuse_update_and_delete(logged: Store) -> None:
    for statement in ("UPDATE checkpoints SET tree_size = 1", "DELETE FROM checkpoints"):
        with pytest.raises(DBAPIError, match="append-only"), logged.engine.begin() as conn:
            conn.exec_driver_sql(statement)
    assert len(TransparencyLog(logged).checkpoints()) == 3


def test_audit_events_refuse_update_and_delete(logged: Store) -> None:
    statements = ["UPDATE audit_events SET actor = 'x' WHERE seq = 2",
                  "DELETE FROM audit_events WHERE seq = 12"]
    if logged.dialect == "postgresql":
        statements.append("TRUNCATE audit_events")
    for statement in statements:
        with pytest.raises(DBAPIError, match="append-only"), logged.engine.begin() as conn:
            conn.exec_driver_sql(statement)
    assert AuditLog(logged).verify().ok


# -- the export and its verification --------------------------------------------------------


@pytest.fixture
def exported(logged: Store, tmp_path: Path) -> Path:
    out = tmp_path / "audit-export.jsonl"
    summary = export_log(logged, out, origin=ORIGIN)
    assert (summary.events, summary.checkpoints) == (12, 3)
    return out


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def rewrite(path: Path, change: Callable[[list[dict[str, Any]]], list[dict[str, Any]]]) -> None:
    records = change(lines(path))
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records),
                    encoding="utf-8")


def events_of(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in records if r["type"] == "event"]


def rechain(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Recompute every event's prev_hash and hash, as a careful forger would."""
    prev = GENESIS_HASH
    for r in events_of(records):
        r["prev_hash"] = prev
        r["hash"] = prev = chain_hash(prev, r)
    header = records[0]
    header["events"] = len(events_of(records))
    header["head"] = {"last_seq": events_of(records)[-1]["seq"], "last_hash": prev}
    return records


def verify(path: Path, key_path: Path, seq: int | None = None) -> Any:
    return verify_export(path, load_public_key(public_key_path(key_path)), event_seq=seq)


def test_an_untouched_export_verifies_with_inclusion(exported: Path, key_path: Path) -> None:
    report = verify(exported, key_path, seq=7)
    assert report.ok, report.summary()
    assert report.latest is not None and report.latest.tree_size == 12
    assert report.inclusion is not None and report.inclusion.tree_size == 12
    assert len(report.inclusion.proof) == 4
    assert "2 consistency proof(s)" in report.summary()


def alter(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    events_of(records)[4]["details"] = '{"n":5,"note":"changed"}'
    return records


def remove(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in records if r.get("seq") != 6]


def swap(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    ev = events_of(records)
    a, b = records.index(ev[2]), records.index(ev[3])
    records[a], records[b] = records[b], records[a]
    return records


def swap_contents(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Swap two events' contents, each keeping the seq of its place."""
    ev = events_of(records)
    ev[2]["seq"], ev[3]["seq"] = ev[3]["seq"], ev[2]["seq"]
    return swap(records)


def truncate(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in records if r.get("type") != "event" or r["seq"] <= 10]


def forge_other_key(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    cp = records[-1]
    fake = Checkpoint(ORIGIN, cp["tree_size"], bytes(32))
    cp["note"] = sign_checkpoint(fake, Ed25519PrivateKey.generate())
    cp["root"] = bytes(32).hex()
    return records


def forge_edited_note(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    cp = records[-1]
    cp["note"] = cp["note"].replace("\n12\n", "\n13\n")
    return records


@pytest.mark.parametrize(("change", "expected"), [
    (alter, ["hash chain: event 5 was altered", "up to seq 8 was altered"]),
    (lambda r: rechain(alter(r)), ["up to seq 8 was altered", "does not extend"]),
    (remove, ["hash chain: event 6 is missing", "covers 12 events but the export holds only 11"]),
    (lambda r: rechain(remove(r)), ["covers 12 events but the export holds only 11",
                                     "up to seq 8 was altered"]),
    (swap, ["seq 4 is listed before seq 3", "up to seq 8 was altered"]),
    (swap_contents, ["events out of order at 3", "up to seq 8 was altered"]),
    (truncate, ["announces 12 events, the export holds 10",
                "covers 12 events but the export holds only 10"]),
    (lambda r: rechain(truncate(r)), ["covers 12 events but the export holds only 10"]),
    (forge_other_key, ["signature does not verify"]),
    (forge_edited_note, ["signature does not verify"]),
])
def test_each_kind_of_tampering_is_caught_and_named(
        exported: Path, key_path: Path, change: Callable[[list[dict[str, Any]]],
                                                         list[dict[str, Any]]],
        expected: list[str]) -> None:
    rewrite(exported, change)
    report = verify(exported, key_path)
    assert not report.ok
    text = "\n".join(report.failures)
    for phrase in expected:
        assert phrase in text, text


def test_a_rolled_back_checkpoint_is_caught(exported: Path, key_path: Path) -> None:
    def reorder(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        cps = [r for r in records if r["type"] == "checkpoint"]
        rest = [r for r in records if r["type"] != "checkpoint"]
        return [*rest, cps[0], cps[2], cps[1]]

    rewrite(exported, reorder)
    report = verify(exported, key_path)
    assert any("rolled back" in f for f in report.failures), report.failures


def test_the_wrong_public_key_fails_every_checkpoint(exported: Path, tmp_path: Path) -> None:
    other = tmp_path / "other.key"
    generate_key(other)
    report = verify(exported, other)
    assert sum("signature does not verify" in f for f in report.failures) == 3
    assert any("nothing in it is signed" in f for f in report.failures)


def test_an_event_not_in_the_export_has_no_inclusion(exported: Path, key_path: Path) -> None:
    report = verify(exported, key_path, seq=13)
    assert report.failures == ["event 13 is not in the export (1..12)"]


# -- the CLI ------------------------------------------------------------------------------------




def test_cli_checkpoint_export_verify(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                      cli: Callable[..., tuple[int, str]]) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("MATCHGATE_HOME", str(home))
    monkeypatch.delenv("MATCHGATE_SIGNING_KEY", raising=False)
    monkeypatch.delenv("MATCHGATE_DATABASE_URL", raising=False)
    with Store.open(Settings().resolved_database_url()) as store:
        AuditLog(store, key=b"k" * 32).append([event(1), event(2)])
    code, output = cli("audit", "checkpoint")
    assert code == 0 and "created the checkpoint-signing key" in output
    assert "checkpoint 1: 2 events" in output
    out = tmp_path / "export.jsonl"
    code, output = cli("audit", "export", "--out", str(out))
    assert code == 0 and "2 events and 2 checkpoints" in output
    pub = str(home / "checkpoint-signing.pub")
    code, output = cli("audit", "verify", "--export", str(out), "--public-key", pub,
                       "--event", "2")
    assert code == 0 and "export verifies" in output and "event 2 is included" in output
    rewrite(out, alter_first)
    code, output = cli("audit", "verify", "--export", str(out), "--public-key", pub)
    assert code == 4 and "event 1 was altered" in output and "Traceback" not in output


def alter_first(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    events_of(records)[0]["outcome"] = "failure"
    return records


def test_cli_verify_export_needs_a_public_key(tmp_path: Path,
                                              cli: Callable[..., tuple[int, str]]) -> None:
    code, output = cli("audit", "verify", "--export", str(tmp_path / "x.jsonl"))
    assert code == 2 and "--public-key" in output


# -- property: any export built honestly verifies; any changed event is caught ----------------

PROPERTY_KEY = Ed25519PrivateKey.generate()


def honest_export(n: int, sizes: list[int]) -> Export:
    events, prev = [], GENESIS_HASH
    for seq in range(1, n + 1):
        row: dict[str, Any] = {"seq": seq, "ts": "2026-11-25T00:00:00.000000+00:00",
                               "actor": "a", "role": "r", "origin": "cli", "event_type": "e.x",
                               "batch_id": None, "request_id": f"R{seq}", "outcome": "success",
                               "agreement_version": None, "details": "{}", "prev_hash": prev}
        row["hash"] = prev = chain_hash(prev, row)
        events.append(row)
    leaves = recomputed_leaves(events)
    checkpoints = []
    for i, size in enumerate(sorted(sizes), start=1):
        note = sign_checkpoint(Checkpoint(ORIGIN, size, root(leaves[:size])), PROPERTY_KEY)
        checkpoints.append({"id": i, "tree_size": size, "root": root(leaves[:size]).hex(),
                            "note": note})
    header = {"origin": ORIGIN, "events": n, "head": {"last_seq": n, "last_hash": prev}}
    return Export(header=header, events=events, checkpoints=checkpoints)


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_honest_exports_verify_and_any_change_is_caught(data: st.DataObject) -> None:
    n = data.draw(st.integers(1, 40))
    sizes = [*data.draw(st.lists(st.integers(1, n), max_size=3)), n]
    export = honest_export(n, sizes)
    seq = data.draw(st.integers(1, n))
    assert verify_records(export, PROPERTY_KEY.public_key(), event_seq=seq).ok
    victim = export.events[seq - 1]
    field = data.draw(st.sampled_from(["actor", "details", "outcome", "request_id"]))
    victim[field] = "failure" if field == "outcome" else victim[field] + "!"
    report = verify_records(export, PROPERTY_KEY.public_key())
    assert not report.ok
    assert any(f"event {seq} was altered" in f for f in report.failures)


def test_migration_0004_downgrades_and_upgrades_again(store: Store) -> None:
    config = alembic_config()
    with store.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0003")
    assert current_revision(store.engine) == "0003"
    assert "checkpoints" not in store.table_names()
    upgrade(store.engine)
    assert {"checkpoints", "disclosure_accounting", "incidents",
            "retention_purges"} <= store.table_names()
