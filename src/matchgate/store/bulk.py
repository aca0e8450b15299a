"""Bulk inserts: many rows in one driver call, without SQLAlchemy's per-row work.

`insert_rows(conn, TABLE, columns, rows)` converts each value with its column type's own bind
processor (the same conversion SQLAlchemy applies: JSON to text, UTC timestamps for SQLite, JSONB
for psycopg), then hands the tuples to the driver: executemany on SQLite (sqlite3 loops in C),
COPY FROM STDIN on PostgreSQL. The rows land exactly as `conn.execute(TABLE.insert(), dicts)`
would write them (a test compares the two on SQLite and PostgreSQL), in the caller's
transaction; a constraint violation raises the same IntegrityError.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import islice
from typing import Any

import psycopg
from sqlalchemy import Table
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

#: rows per driver call: large enough to amortize round trips, small enough for memory
ROWS_PER_CALL = 5_000


def _processors(conn: Connection, table: Table, columns: Sequence[str]
                ) -> list[Callable[[Any], Any] | None]:
    dialect = conn.dialect
    return [table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
            for name in columns]


def placeholder(conn: Connection) -> str:
    """The driver's mark for a positional parameter in SQL run on its own cursor."""
    return "?" if conn.dialect.paramstyle in ("qmark", "numeric") else "%s"


def driver_blocks(conn: Connection, sql: str, params: tuple[Any, ...], *, per_fetch: int,
                  name: str | None = None) -> Iterator[list[tuple[Any, ...]]]:
    """The rows of `sql` (with the driver's own placeholders, see `placeholder`) in blocks of
    `per_fetch`, read with the driver's own cursor, in the caller's transaction: no
    SQLAlchemy work per row or value. With `name`, a server-side cursor on PostgreSQL (the rows
    are not all held by the client)."""
    raw: Any = conn.connection.driver_connection
    cursor = (raw.cursor(name=name) if name and conn.dialect.name == "postgresql"
              else raw.cursor())
    try:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(per_fetch):
            yield rows
    finally:
        cursor.close()


def insert_sql(conn: Connection, table: Table, columns: Sequence[str]) -> str:
    mark = placeholder(conn)
    preparer = conn.dialect.identifier_preparer
    names = ", ".join(preparer.quote(name) for name in columns)
    return (f"INSERT INTO {preparer.format_table(table)} ({names}) "
            f"VALUES ({', '.join([mark] * len(columns))})")


def _converted(conn: Connection, table: Table, columns: Sequence[str],
               rows: Iterable[Sequence[Any]]) -> Iterator[tuple[Any, ...]]:
    """Each row as a tuple, its values converted by their columns' bind processors; the same
    object as the row before's in a column (a batch's one time stamp, a shared empty document)
    is converted once."""
    converting: list[list[Any]] = [[i, process, _NOTHING, None] for i, process in enumerate(
        _processors(conn, table, columns)) if process is not None]
    if not converting:
        yield from (tuple(row) for row in rows)
        return
    for row in rows:
        values = list(row)
        for slot in converting:
            i, process, before, _ = slot
            value = values[i]
            if value is not before:
                slot[2], slot[3] = value, process(value)
            values[i] = slot[3]
        yield tuple(values)


_NOTHING = object()


def insert_rows(conn: Connection, table: Table, columns: Sequence[str],
                rows: Iterable[Sequence[Any]]) -> int:
    """Insert `rows` (tuples in the order of `columns`); returns how many were inserted."""
    if conn.dialect.name == "postgresql" and conn.dialect.driver == "psycopg":
        return _copy_rows(conn, table, columns, rows)
    sql = insert_sql(conn, table, columns)
    count = 0
    converted = _converted(conn, table, columns, rows)
    while batch := list(islice(converted, ROWS_PER_CALL)):
        conn.exec_driver_sql(sql, batch)
        count += len(batch)
    return count


def _copy_rows(conn: Connection, table: Table, columns: Sequence[str],
               rows: Iterable[Sequence[Any]]) -> int:
    """PostgreSQL: COPY ... FROM STDIN on the transaction's own connection; psycopg adapts
    each value (the bind processors wrap JSON documents for it). A constraint violation is
    raised as SQLAlchemy's IntegrityError, as an INSERT's would be."""
    preparer = conn.dialect.identifier_preparer
    names = ", ".join(preparer.quote(name) for name in columns)
    sql = f"COPY {preparer.format_table(table)} ({names}) FROM STDIN"
    raw: Any = conn.connection.driver_connection
    count = 0
    try:
        with raw.cursor() as cursor, cursor.copy(sql) as copy:
            for values in _converted(conn, table, columns, rows):
                copy.write_row(values)
                count += 1
    except psycopg.IntegrityError as exc:
        raise IntegrityError(sql, None, exc) from exc
    return count
