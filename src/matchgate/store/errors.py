"""Errors of the operational store, placed in the shared hierarchy (matchgate.errors)."""

from __future__ import annotations

from matchgate.errors import StoreError


class StoreConflict(StoreError):
    """A write would duplicate something the store already holds (a batch, a request, a decision).

    Nothing of the refused write is kept: the whole call is rolled back.
    """

    code = "store_conflict"
    status = 409


class StoreNotFound(StoreError):
    """The object named does not exist in the store."""

    code = "store_not_found"
    status = 404
