"""Opening a database: one engine per store, with the same transaction semantics on every back end.

SQLite: pysqlite's own transaction handling is switched off and matchgate emits BEGIN itself, so
that DDL is transactional and a writing transaction starts with BEGIN IMMEDIATE (it takes the write
lock up front, so two writers queue instead of failing half-way). WAL lets readers go on while a
writer works; a busy timeout makes writers wait for each other rather than fail.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.pool import StaticPool

from matchgate.errors import StoreError

#: execution option that makes the next transaction on a connection a writing one
WRITE_OPTION = "matchgate_write"
#: the engines' logger is sqlalchemy.engine.Engine.matchgate; DEBUG there would log result rows
LOGGING_NAME = "matchgate"
SQLITE_BUSY_TIMEOUT_MS = 60_000
#: page cache per connection (SQLite's default is 2 MiB): a chunk's bulk inserts into the indexes
#: (dedupe keys, TINs: random order) stay in memory until the commit writes them once
SQLITE_CACHE_KIB = 64 * 1024


def parse_url(url: str) -> URL:
    try:
        return make_url(url)
    except ArgumentError as exc:
        raise StoreError(f"not a database URL: {url!r}",
                         hint="use sqlite:///path/to/file.sqlite or "
                              "postgresql+psycopg://user@host:5432/db") from exc


def sqlite_path(url: URL) -> Path | None:
    """The file of a SQLite URL, or None for an in-memory database."""
    database = url.database
    if not database or database == ":memory:" or database.startswith("file::memory:"):
        return None
    return Path(database)


#: orjson writes what json.dumps accepts; anything else (a date, a dataclass, a number too large
#: for 64 bits) is passed through to json.dumps, which writes it or raises as before
_ORJSON_OPTIONS = (orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME
                   | orjson.OPT_PASSTHROUGH_DATACLASS)


# 19 digits in a row: an integer orjson might read as a float (it reads integers beyond 64 bits
# that way, silently), so json.loads reads the text.
_LONG_DIGITS = re.compile(r"\d{19}")


def json_value(text: str | bytes) -> Any:
    """A JSON column's value from its stored text: orjson (some three times faster than
    json.loads; a batch's response file reads a million of them), json.loads where orjson
    would not give the same value (a run of 19 digits or more) or refuses the text
    (NaN, which json.dumps writes)."""
    if _LONG_DIGITS.search(text.decode("utf-8") if isinstance(text, bytes) else text):
        return json.loads(text)
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


class JSONText(str):
    """A JSON document already rendered as compact text (a decision's evidence put together
    from its candidates' rendered entries, matchgate.evidence): stored as it is."""

    __slots__ = ()


def json_text(value: Any) -> str:
    """The stored text of a JSON column: compact JSON, UTF-8 as it is (orjson, several times
    faster than json.dumps for a decision's evidence: a batch writes a million of them); a
    document already rendered (evidence.JSONText) as it is."""
    if type(value) is JSONText:
        return value
    try:
        return orjson.dumps(value, option=_ORJSON_OPTIONS).decode("utf-8")
    except TypeError:
        return json.dumps(value)


class _NoRows(logging.Filter):
    """Drops SQLAlchemy's DEBUG records (the result rows) whatever level its loggers are set to."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno > logging.DEBUG


logging.getLogger(f"sqlalchemy.engine.Engine.{LOGGING_NAME}").addFilter(_NoRows())


def make_engine(url: URL) -> Engine:
    """The engine of a store. Taxpayers' names, addresses and TINs never reach a log line or an
    error message through it: statement parameters are hidden (hide_parameters) and the result
    rows SQLAlchemy logs at DEBUG are dropped (_NoRows), so SQL logging shows statements only."""
    backend = url.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(url)
    if backend == "postgresql":
        if url.get_driver_name() in ("", "psycopg2"):
            url = url.set(drivername="postgresql+psycopg")
        return create_engine(url, pool_pre_ping=True, hide_parameters=True,
                             logging_name=LOGGING_NAME, json_serializer=json_text,
                             json_deserializer=json_value)
    raise StoreError(f"unsupported database {backend!r} in {url.render_as_string()}",
                     hint="matchgate's operational store runs on SQLite or PostgreSQL")


def _sqlite_engine(url: URL) -> Engine:
    kwargs: dict[str, Any] = {"connect_args": {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
                              "hide_parameters": True, "logging_name": LOGGING_NAME,
                              "json_serializer": json_text, "json_deserializer": json_value}
    if sqlite_path(url) is None:
        kwargs.update(poolclass=StaticPool, connect_args={"check_same_thread": False})
    engine = create_engine(url, **kwargs)
    event.listen(engine, "connect", _sqlite_on_connect)
    event.listen(engine, "begin", _sqlite_on_begin)
    return engine


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # matchgate emits BEGIN itself (see _sqlite_on_begin)
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
    finally:
        cursor.close()


def _sqlite_on_begin(conn: Connection) -> None:
    write = conn.get_execution_options().get(WRITE_OPTION, False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")
