"""Alembic environment: always run online, on the connection that matchgate.store.migrate hands in.

There is no alembic.ini: the configuration is built in code (matchgate.store.migrate.alembic_config)
and the caller has already opened the transaction (BEGIN IMMEDIATE on SQLite, an advisory lock on
PostgreSQL), so the whole upgrade commits or rolls back as one.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

connection = context.config.attributes.get("connection")
if not isinstance(connection, Connection):
    raise RuntimeError("matchgate migrations run only through matchgate.store.migrate.upgrade()")

context.configure(connection=connection, target_metadata=None, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
