"""Decisions: one per request, never two.

A second decision for a request FAILS (it is not silently ignored): `record_decisions` raises
StoreConflict naming the requests already decided, and nothing of that call is written. The
primary key (batch_id, request_id) enforces this in the database too, so two processes racing to
answer the same request cannot both succeed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from matchgate.codes import REASONS, Code
from matchgate.errors import InputError, ProblemCollector
from matchgate.store.batches import (
    existing_ids,
    refresh_statistics,
    repeated,
    require_batch,
    sample,
    utcnow,
)
from matchgate.store.bulk import driver_blocks, insert_rows, placeholder
from matchgate.store.engine import json_value
from matchgate.store.errors import StoreConflict, StoreNotFound
from matchgate.store.models import DECISIONS, REQUESTS

REQUIRED_FIELDS: tuple[str, ...] = ("request_id", "code", "agreement_version", "decided_by")
#: fields a decision may leave out, with the value stored then
OPTIONAL_FIELDS: dict[str, Any] = {
    "reason": None, "matched_tin": None, "match_probability": None,
    "runner_up_probability": None, "disclosed": {}, "evidence": {}, "master_version": None,
}
CODES = frozenset(c.value for c in Code)


def _code_problem(code: Any, reason: Any) -> tuple[str, str] | None:
    """What is wrong with a code and its reason (message, field), if anything."""
    if code not in CODES:
        return f"unknown code {code!r}", "code"
    if reason is not None and reason not in REASONS:
        return f"unknown reason {reason!r}", "reason"
    if reason is not None and REASONS[reason][0] != code:
        return f"reason {reason!r} leads to {REASONS[reason][0]}, not {code}", "reason"
    return None


def check_codes(batch_id: str, decisions: Sequence[tuple[Any, Any, Any]]) -> None:
    """Every code is a published one, and every reason is a known reason leading to that code
    (each distinct pair checked once; `decisions` are (request_id, code, reason))."""
    if not any(_code_problem(code, reason) for code, reason in
               {(code, reason) for _, code, reason in decisions}):
        return
    problems = ProblemCollector()
    for index, (request_id, code, reason) in enumerate(decisions):
        problem = _code_problem(code, reason)
        if problem is not None:
            message, field = problem
            problems.add(f"decision {index} (request {request_id!r}): {message}", field=field)
    raise InputError(f"batch {batch_id!r}: decisions with invalid codes",
                     problems=problems.problems)


#: the decisions table's columns in the order record_decisions writes them
COLUMNS: tuple[str, ...] = ("batch_id", "decided_at", *REQUIRED_FIELDS, *OPTIONAL_FIELDS)
_OPTIONAL = tuple(OPTIONAL_FIELDS.items())
_ID, _CODE, _REASON = (COLUMNS.index(c) for c in ("request_id", "code", "reason"))


def as_row(batch_id: str, decision: dict[str, Any], decided_at: datetime) -> tuple[Any, ...]:
    """The decision's values in COLUMNS order (an optional field left out takes its default)."""
    required = [decision.get(f) for f in REQUIRED_FIELDS]
    if any(v is None for v in required):
        missing = [f for f, v in zip(REQUIRED_FIELDS, required, strict=True) if v is None]
        raise InputError(f"batch {batch_id!r}: a decision lacks {', '.join(missing)}: "
                         f"{ {k: decision.get(k) for k in ('request_id', 'code')} }")
    return (batch_id, decided_at, *required, *[decision.get(f, d) for f, d in _OPTIONAL])


def record_decisions(conn: Connection, *, batch_id: str,
                     decisions: list[dict[str, Any]]) -> datetime:
    """Insert the decisions in the caller's transaction (one bulk insert); returns their
    decided_at."""
    require_batch(conn, batch_id)
    decided_at = utcnow()
    rows = [as_row(batch_id, d, decided_at) for d in decisions]
    check_codes(batch_id, [(r[_ID], r[_CODE], r[_REASON]) for r in rows])
    ids = [r[_ID] for r in rows]
    if twice := repeated(ids):
        raise StoreConflict(f"batch {batch_id!r}: more than one decision given for request(s) "
                            f"{sample(twice)}")
    try:
        with conn.begin_nested():
            insert_rows(conn, DECISIONS, COLUMNS, rows)
    except IntegrityError as exc:
        decided = existing_ids(conn, DECISIONS, batch_id, ids)
        if decided:
            raise StoreConflict(f"batch {batch_id!r}: request(s) already decided: "
                                f"{sample(decided)}; a request is answered once") from exc
        unknown = set(ids) - existing_ids(conn, REQUESTS, batch_id, ids)
        raise StoreNotFound(f"batch {batch_id!r}: decision(s) for request(s) not in the batch: "
                            f"{sample(unknown)}") from exc
    refresh_statistics(conn, DECISIONS, len(rows))
    return decided_at


def decided_request_ids(conn: Connection, *, batch_id: str) -> set[str]:
    query = select(DECISIONS.c.request_id).where(DECISIONS.c.batch_id == batch_id)
    return set(conn.execute(query).scalars())


def decisions_for_batch(conn: Connection, *, batch_id: str, with_evidence: bool = True,
                        only: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """Every decision of the batch, in the order of the batch's rows (without the evidence
    column when with_evidence is False: responses never show it, and it is the bulk; with
    `only`, just those columns: a million rows' times and numbers are not converted for a
    response file that shows none of them)."""
    columns = [c for c in DECISIONS.c if (with_evidence or c.name != "evidence")
               and (only is None or c.name in only)]
    query = (
        select(*columns)
        .join(REQUESTS, (REQUESTS.c.batch_id == DECISIONS.c.batch_id)
              & (REQUESTS.c.request_id == DECISIONS.c.request_id))
        .where(DECISIONS.c.batch_id == batch_id)
        .order_by(REQUESTS.c.row_number, DECISIONS.c.request_id)
    )
    result = conn.execute(query)
    names = list(result.keys())  # rows zipped with the names: a third of mappings()' time
    return [dict(zip(names, row, strict=True)) for row in result]


#: rows fetched at a time by response_source
ROWS_PER_FETCH = 10_000
#: what response_source gives per decision: request_id, code, reason and what was disclosed
ResponseSource = tuple[str, str, str | None, dict[str, Any]]


def response_source(conn: Connection, *, batch_id: str) -> list[ResponseSource]:
    """(request_id, code, reason, disclosed) of every decision of the batch, in the order of
    its rows: what a response file shows, as decisions_for_batch(only=RESPONSE_SOURCE) gives
    it, read with the driver's own cursor and kept as tuples (SQLAlchemy's work per row and a
    dict per row were most of the 9 s that 1.28 million rows took)."""
    mark = placeholder(conn)
    table = conn.dialect.identifier_preparer.format_table
    sql = (f"SELECT d.request_id, d.code, d.reason, d.disclosed FROM {table(DECISIONS)} d "
           f"JOIN {table(REQUESTS)} r ON r.batch_id = d.batch_id "
           f"AND r.request_id = d.request_id WHERE d.batch_id = {mark} "
           "ORDER BY r.row_number, d.request_id")
    return [(request_id, code, reason, _json(disclosed))
            for rows in driver_blocks(conn, sql, (batch_id,), per_fetch=ROWS_PER_FETCH)
            for request_id, code, reason, disclosed in rows]


def _json(value: Any) -> Any:
    """A JSON column's value as the driver hands it over: text (SQLite) read as the engine's
    deserializer reads it (an empty object without a parse), parsed JSON (PostgreSQL's driver)
    as it is."""
    if value == "{}":
        return {}
    return json_value(value) if isinstance(value, str | bytes) else value
