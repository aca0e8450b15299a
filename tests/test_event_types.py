"""EventType is the one list of the event types matchgate writes: a real batch's log holds no
other, every type is written somewhere in src, and every writer names its type by a constant
(so that a new type has to be added to the list, and a type no longer written shows)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import matchgate
from batch_helper import RanBatch, run_batch
from matchgate.accounting.service import export_accounting, taxpayer_disclosures
from matchgate.audit import AuditLog, EventType
from matchgate.audit.events import RetiredEventType, event_types

SRC = Path(matchgate.__file__).parent
EVENTS_MODULE = SRC / "audit" / "events.py"


@pytest.fixture(scope="module")
def ran(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RanBatch]:
    batch = run_batch(tmp_path_factory.mktemp("event-types"), taxpayers=1_000, requests=120)
    yield batch
    batch.services.store.close()


def logged_types(ran: RanBatch) -> set[str]:
    return {e["event_type"] for e in AuditLog(ran.services.store).read(limit=1_000_000)}


def test_a_batch_writes_only_listed_event_types(ran: RanBatch, tmp_path: Path) -> None:
    services, data = ran.services, ran.data
    # the batch again (its responses rewritten), and the accounting a disclosure officer reads
    services.verify_batch(requests_path=data.requests_path, manifest_path=data.manifest_path,
                          responses_path=tmp_path / "again.csv", decisions_path=None)
    today = datetime.now(UTC).date()
    rows = export_accounting(services.store, start=today - timedelta(days=1),
                             end=today + timedelta(days=1), out=tmp_path / "accounting.csv")
    assert rows > 0
    taxpayer_disclosures(services.store, "123-45-6789")
    written = logged_types(ran)
    assert written <= set(event_types().values()), written - set(event_types().values())
    assert {EventType.AGREEMENT_LOADED, EventType.BATCH_RECEIVED, EventType.REQUEST_GATED,
            EventType.REQUEST_DECIDED, EventType.DISCLOSURE, EventType.BATCH_COMPLETED,
            EventType.BATCH_RESPONSES_REWRITTEN, EventType.ACCOUNTING_EXPORTED,
            EventType.ACCOUNTING_TAXPAYER_QUERY} <= written
    assert not written & set(event_types(RetiredEventType).values())


def test_event_types_are_distinct_stored_strings() -> None:
    current, retired = event_types(), event_types(RetiredEventType)
    assert len(current) >= 20 and len(retired) == 2
    values = [*current.values(), *retired.values()]
    assert len(set(values)) == len(values)
    assert all(type(v) is str and v == v.strip().lower() and " " not in v for v in values)
    assert EventType.DISCLOSURE == "disclosure"  # as stored since the first batch


# -- the writers in src ------------------------------------------------------------------------

def _parsed() -> Iterator[tuple[Path, ast.Module]]:
    for path in sorted(SRC.rglob("*.py")):
        if path != EVENTS_MODULE:
            yield path, ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _type_position(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> int | None:
    """Where a helper that makes AuditEvents takes the event type (after self), if it does."""
    params = [a.arg for a in (*fn.args.posonlyargs, *fn.args.args)]
    if params[:1] in (["self"], ["cls"]):
        params = params[1:]
    makes = any(isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
                and n.func.id == "AuditEvent" for n in ast.walk(fn))
    return params.index("event_type") if makes and "event_type" in params else None


def _helpers(tree: ast.Module) -> dict[str, int]:
    """The module's helpers that make AuditEvents, with the position of the event type."""
    return {n.name: at for n in ast.walk(tree)
            if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)
            and (at := _type_position(n)) is not None}


def _writes() -> Iterator[tuple[str, ast.expr]]:
    """(where, the event type's expression) of every call that makes an AuditEvent in src:
    AuditEvent itself, a helper of the module, or one imported from another module."""
    modules = list(_parsed())
    exported = {name: at for _, tree in modules for name, at in _helpers(tree).items()}
    for path, tree in modules:
        imported = {a.asname or a.name: exported[a.name] for n in ast.walk(tree)
                    if isinstance(n, ast.ImportFrom) for a in n.names if a.name in exported}
        emitters = {"AuditEvent": 0, **imported, **_helpers(tree)}
        for call in ast.walk(tree):
            if not isinstance(call, ast.Call):
                continue
            name = (call.func.id if isinstance(call.func, ast.Name) else
                    call.func.attr if isinstance(call.func, ast.Attribute) else None)
            if name not in emitters:
                continue
            given = [k.value for k in call.keywords if k.arg == "event_type"]
            if not given and len(call.args) > emitters[name]:
                given = [call.args[emitters[name]]]
            if given and not (isinstance(given[0], ast.Name) and given[0].id == "event_type"):
                yield f"{path.relative_to(SRC.parent)}:{call.lineno}", given[0]


def _constants(expr: ast.expr) -> set[str]:
    return {n.attr for n in ast.walk(expr) if isinstance(n, ast.Attribute)
            and isinstance(n.value, ast.Name) and n.value.id == "EventType"}


def test_every_writer_names_its_type_by_an_event_type_constant() -> None:
    writes = list(_writes())
    assert len(writes) >= 20  # the scan sees the writers
    bad = [where for where, expr in writes
           if not _constants(expr) or any(isinstance(n, ast.Constant) and isinstance(n.value, str)
                                          for n in ast.walk(expr))]
    assert not bad, f"write the event type as an EventType constant at {bad}"


def test_every_event_type_is_written_somewhere() -> None:
    written = set().union(*(_constants(expr) for _, expr in _writes()))
    assert written <= set(event_types()), written - set(event_types())
    never = set(event_types()) - written
    assert not never, f"EventType lists types nothing in src writes: {sorted(never)}"
