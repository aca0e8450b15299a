"""The operational store (SQLite by default, PostgreSQL in production), migrated with Alembic."""

from matchgate.store.errors import StoreConflict, StoreNotFound
from matchgate.store.store import Store

__all__ = ["Store", "StoreConflict", "StoreNotFound"]
