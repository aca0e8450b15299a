"""The operational store: batches, requests, decisions and the audit log's tables.

    store = Store.open("sqlite:///matchgate-data/matchgate.sqlite")   # creates or upgrades it
    store.create_batch(batch_id="B1", agreement_id="A", ...)

Every repository method takes keyword arguments only and runs in its own transaction; a method
that fails leaves nothing behind.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

from sqlalchemy import Engine, inspect, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, Connection
from sqlalchemy.exc import DBAPIError

from matchgate.accounting import repo as accounting_repo
from matchgate.errors import StoreError
from matchgate.store import batches, migrate
from matchgate.store import decisions as decision_repo
from matchgate.store.engine import WRITE_OPTION, make_engine, parse_url, sqlite_path
from matchgate.store.models import AGREEMENTS, STORE_META

#: a write done by the caller inside a Store method's transaction (audit events, mostly)
Also = Callable[[Connection], object]


class Store:
    """One operational store (SQLite file or PostgreSQL database) and its engine."""

    def __init__(self, engine: Engine, url: URL) -> None:
        self.engine = engine
        self.url = url

    # -- opening -------------------------------------------------------------------------------

    @classmethod
    def open(cls, url: str, *, create: bool = True) -> Store:
        """Open the store at `url`, creating or upgrading its schema through the migrations.

        With create=False the store must already exist at the newest schema (nothing is written):
        a missing or outdated store is a StoreError, as a read-only auditor expects.
        """
        parsed = parse_url(url)
        path = sqlite_path(parsed) if parsed.get_backend_name() == "sqlite" else None
        if path is not None and not path.exists():
            if not create:
                raise StoreError(f"no operational store at {path}",
                                 hint="check --database or MATCHGATE_HOME / MATCHGATE_DATABASE_URL")
            path.parent.mkdir(parents=True, exist_ok=True)
        store = cls(make_engine(parsed), parsed)
        try:
            store._prepare(create=create)
        except BaseException:
            store.close()
            raise
        return store

    def _prepare(self, *, create: bool) -> None:
        where = self.url.render_as_string(hide_password=True)
        try:
            current = migrate.current_revision(self.engine)
            if create:
                if current != migrate.head_revision():
                    migrate.upgrade(self.engine)
            elif current is None:
                raise StoreError(f"{where} is not a matchgate store (it has no schema)")
            elif current != migrate.head_revision():
                raise StoreError(f"{where} is at schema revision {current}, this matchgate needs "
                                 f"{migrate.head_revision()}",
                                 hint="open it once with a writing command to upgrade it")
        except DBAPIError as exc:
            raise StoreError(f"cannot open the operational store {where}: "
                             f"{str(exc.orig).strip()}") from exc

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    # -- transactions --------------------------------------------------------------------------

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def writing(self) -> Iterator[Connection]:
        """A writing transaction: BEGIN IMMEDIATE on SQLite, so writers queue up front."""
        with self.engine.connect() as conn:
            conn = conn.execution_options(**{WRITE_OPTION: True})
            with conn.begin():
                yield conn

    @contextmanager
    def reading(self, *, snapshot: bool = False) -> Iterator[Connection]:
        """A reading transaction; with snapshot=True every query sees the same moment
        (REPEATABLE READ on PostgreSQL; a SQLite read transaction already does)."""
        with self.engine.connect() as conn:
            if snapshot and self.dialect == "postgresql":
                conn = conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                yield conn

    def table_names(self) -> set[str]:
        return set(inspect(self.engine).get_table_names())

    # -- small named values --------------------------------------------------------------------

    def meta_value(self, name: str, create: Callable[[], str] | None = None) -> str | None:
        """The value stored under `name`; if absent and `create` is given, store its result
        (the first writer wins when two race) and return what is stored."""
        query = select(STORE_META.c.value).where(STORE_META.c.name == name)
        with self.reading() as conn:
            value = conn.execute(query).scalar_one_or_none()
        if value is not None or create is None:
            return value
        insert = (postgresql.insert(STORE_META) if self.dialect == "postgresql"
                  else sqlite.insert(STORE_META))
        with self.writing() as conn:
            conn.execute(insert.values(name=name, value=create()).on_conflict_do_nothing())
            stored: str = conn.execute(query).scalar_one()
        return stored

    def secret(self, name: str) -> str:
        """A random 256-bit secret kept in this store, made on first use."""
        value = self.meta_value(name, lambda: secrets.token_hex(32))
        assert value is not None
        return value

    # -- agreements ----------------------------------------------------------------------------

    def save_agreement(self, *, agreement_id: str, version: str, text: str,
                       loaded_by: str) -> None:
        """Put an agreement version in force (it becomes the newest of its id)."""
        with self.writing() as conn:
            conn.execute(AGREEMENTS.insert().values(
                agreement_id=agreement_id, version=version, text=text,
                loaded_at=datetime.now(UTC), loaded_by=loaded_by))

    def agreement_text(self, *, agreement_id: str, version: str | None = None) -> str | None:
        """The text of the agreement in force (or of the given version), None if never loaded."""
        query = (select(AGREEMENTS.c.text).where(AGREEMENTS.c.agreement_id == agreement_id)
                 .order_by(AGREEMENTS.c.seq.desc()).limit(1))
        if version is not None:
            query = query.where(AGREEMENTS.c.version == version)
        with self.reading() as conn:
            text: str | None = conn.execute(query).scalar_one_or_none()
        return text

    # -- batches and requests ------------------------------------------------------------------

    def create_batch(self, *, batch_id: str, agreement_id: str, agreement_version: str,
                     manifest: dict[str, Any], source_name: str, row_count: int,
                     submitted_by: str, requests: list[dict[str, Any]] | None = None,
                     also: Also | None = None) -> None:
        """Store a new batch with status `received`, its requests (request_id, row_number,
        payload, dedupe_key) and whatever `also` writes (the audit events of its receipt), all
        in one transaction; an existing batch_id is a StoreConflict and nothing is written."""
        with self.writing() as conn:
            batches.create_batch(conn, batch_id=batch_id, agreement_id=agreement_id,
                                 agreement_version=agreement_version, manifest=manifest,
                                 source_name=source_name, row_count=row_count,
                                 submitted_by=submitted_by)
            if requests is not None:
                batches.add_requests(conn, batch_id=batch_id, rows=requests)
            if also is not None:
                also(conn)

    def add_requests(self, *, batch_id: str, rows: list[dict[str, Any]]) -> None:
        """Store the batch's requests (request_id, row_number, payload, dedupe_key), all or none."""
        with self.writing() as conn:
            batches.add_requests(conn, batch_id=batch_id, rows=rows)

    def set_batch_status(self, *, batch_id: str, status: str,
                         master_version: str | None = None, also: Also | None = None) -> None:
        """Move the batch along received -> running -> done | failed (failed may run again),
        with whatever `also` writes in the same transaction."""
        with self.writing() as conn:
            if also is not None:
                also(conn)
            batches.set_batch_status(conn, batch_id=batch_id, status=status,
                                     master_version=master_version)

    def get_batch(self, *, batch_id: str) -> dict[str, Any] | None:
        with self.reading() as conn:
            return batches.get_batch(conn, batch_id=batch_id)

    def requests_for_batch(self, *, batch_id: str) -> list[dict[str, Any]]:
        """The batch's requests in row order (request_id, row_number, payload, dedupe_key)."""
        with self.reading() as conn:
            return batches.requests_for_batch(conn, batch_id=batch_id)

    def request_payload(self, *, batch_id: str, request_id: str) -> dict[str, Any] | None:
        """One request's submitted fields, None if the batch has no such request."""
        with self.reading() as conn:
            return batches.request_payload(conn, batch_id=batch_id, request_id=request_id)

    def prior_dedupe_keys(self, *, agreement_id: str, keys: Collection[str],
                          exclude_batch: str | None) -> dict[str, tuple[str, str]]:
        """key -> (batch_id, request_id) of the earliest decided request under the agreement."""
        with self.reading() as conn:
            return batches.prior_dedupe_keys(conn, agreement_id=agreement_id, keys=keys,
                                             exclude_batch=exclude_batch)

    # -- decisions -----------------------------------------------------------------------------

    def record_decisions(self, *, batch_id: str, decisions: list[dict[str, Any]],
                         accounting: Sequence[dict[str, Any]] = (),
                         also: Also | None = None) -> None:
        """Store one decision per request; a request already decided is a StoreConflict and
        nothing of the call is written (see matchgate.store.decisions). The accounting records
        of the disclosures among them (matchgate.accounting), dated with the decisions' time,
        and whatever `also` writes (their audit events) commit in the same transaction."""
        with self.writing() as conn:
            if also is not None:
                also(conn)  # first: on PostgreSQL it takes the audit log's lock (one order)
            decided_at = decision_repo.record_decisions(conn, batch_id=batch_id,
                                                        decisions=decisions)
            accounting_repo.insert_records(conn, batch_id=batch_id, records=accounting,
                                           disclosed_at=decided_at)

    def decided_request_ids(self, *, batch_id: str) -> set[str]:
        with self.reading() as conn:
            return decision_repo.decided_request_ids(conn, batch_id=batch_id)

    def response_source(self, *, batch_id: str) -> list[decision_repo.ResponseSource]:
        """(request_id, code, reason, disclosed) of each decision, in the batch's row order."""
        with self.reading() as conn:
            return decision_repo.response_source(conn, batch_id=batch_id)

    def decisions_for_batch(self, *, batch_id: str, with_evidence: bool = True,
                            only: Sequence[str] | None = None) -> list[dict[str, Any]]:
        with self.reading() as conn:
            return decision_repo.decisions_for_batch(conn, batch_id=batch_id,
                                                     with_evidence=with_evidence, only=only)

