"""API rate limits per token and per requesting agency, counted in the operational store so that
every uvicorn worker and every server process shares them.

The limits come from the agreement ([rate_limits], see matchgate.agreement.RateLimits): a
requester's token and agency get the strictest limits of the agreements in force that name the
agency (RateLimits' defaults if none does); custodian staff have no agency and get the default
per-token limit.

The window is a sliding-window counter over one-minute fixed windows: the calls of the current
window plus the previous window's, weighted by how much of it still lies within the last minute.
A call is counted only if it is allowed, by one conditional upsert per bucket
(INSERT ... ON CONFLICT DO UPDATE SET hits = hits + 1 WHERE hits < cap RETURNING hits), all
buckets in one transaction: a call refused by the agency's limit does not use up its token's.
Refused calls get 429 with Retry-After, the whole seconds until the call would be allowed. The
web pages (matchgate.web) count against the same limits once the user is signed in.
"""

from __future__ import annotations

import html
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy import Connection, delete, select
from sqlalchemy.dialects import postgresql, sqlite

from matchgate.agreement import Agreement, RateLimits
from matchgate.api.errors import ErrorBody
from matchgate.errors import AgreementError, MatchgateError
from matchgate.store import Store
from matchgate.store.models import AGREEMENTS, RATE_LIMIT_WINDOWS
from matchgate.users import User, token_hash

log = logging.getLogger("matchgate.api.ratelimit")

WINDOW_SECONDS = 60
#: how long a process keeps the limits it read from the agreements before reading them again
LIMITS_TTL_SECONDS = 30.0


class RateLimited(MatchgateError):
    code = "rate_limited"
    status = 429

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


# -- the arithmetic (pure) ----------------------------------------------------------------------

def cap(limit: int, previous: int, elapsed: float) -> int:
    """How many calls the current window may hold, `elapsed` (0..1) of the way through it."""
    return math.floor(limit - previous * (1.0 - elapsed) + 1e-9)


def retry_after(limit: int, previous: int, current: int, elapsed: float,
                window: int = WINDOW_SECONDS) -> int:
    """Whole seconds until one more call fits under `limit` (at least 1)."""
    if current < limit:  # the previous window's weight must fall far enough within this one
        need = 1.0 - (limit - 1 - current) / previous if previous else elapsed
        wait = (max(need, elapsed) - elapsed) * window
    else:  # only the next window can take it, once this one's weight has fallen far enough
        wait = (1.0 - elapsed) * window + max(0.0, 1.0 - (limit - 1) / current) * window
    return max(1, math.ceil(wait - 1e-9))


@dataclass(frozen=True)
class Bucket:
    key: str
    limit: int
    what: str  # for the message: "this token", "the agency"


# -- the limiter --------------------------------------------------------------------------------

class RateLimiter:
    """Counts calls per bucket in the store; `clock` (seconds since the epoch) can be injected."""

    def __init__(self, store: Store, *, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.clock = clock
        self._limits: dict[str | None, tuple[float, RateLimits]] = {}
        self._logged: dict[str, int] = {}

    def check(self, user: User, token: str) -> None:
        """Count one call of `user` holding `token`, or raise RateLimited (nothing counted)."""
        limits = self.limits_for(user.agency)
        buckets = [Bucket(f"token:{token_hash(token)}", limits.requests_per_minute_per_token,
                          "this token")]
        if user.agency:
            buckets.append(Bucket(f"agency:{user.agency}",
                                  limits.requests_per_minute_per_agency, "the agency"))
        now = self.clock()
        start = int(now // WINDOW_SECONDS) * WINDOW_SECONDS
        elapsed = (now - start) / WINDOW_SECONDS
        refused: list[tuple[Bucket, int]] = []
        try:
            with self.store.writing() as conn:
                previous = self._hits(conn, [b.key for b in buckets], start - WINDOW_SECONDS)
                for bucket in buckets:
                    before = previous.get(bucket.key, 0)
                    allowed, current = self._take(conn, bucket.key, start,
                                                  cap(bucket.limit, before, elapsed))
                    if not allowed:
                        refused.append((bucket, retry_after(bucket.limit, before, current,
                                                            elapsed)))
                    elif current == 1:  # a new window: forget the ones before the previous
                        conn.execute(delete(RATE_LIMIT_WINDOWS).where(
                            RATE_LIMIT_WINDOWS.c.bucket == bucket.key,
                            RATE_LIMIT_WINDOWS.c.window_start < start - WINDOW_SECONDS))
                if refused:
                    raise _Rollback
        except _Rollback:
            pass
        if refused:
            bucket, wait = max(refused, key=lambda r: r[1])
            self._log_once(user, bucket, start)
            raise RateLimited(f"too many requests: {bucket.limit} per minute are allowed for "
                              f"{bucket.what}; retry in {wait} s", retry_after=wait)

    def _hits(self, conn: Connection, keys: list[str], window_start: int) -> dict[str, int]:
        rows = conn.execute(select(RATE_LIMIT_WINDOWS.c.bucket, RATE_LIMIT_WINDOWS.c.hits)
                            .where(RATE_LIMIT_WINDOWS.c.bucket.in_(keys),
                                   RATE_LIMIT_WINDOWS.c.window_start == window_start))
        return {r.bucket: int(r.hits) for r in rows}

    def _take(self, conn: Connection, key: str, start: int, most: int) -> tuple[bool, int]:
        """Count a call if the window holds fewer than `most`: (allowed, calls in the window)."""
        if most >= 1:
            insert: Any = (postgresql.insert(RATE_LIMIT_WINDOWS)
                           if self.store.dialect == "postgresql"
                           else sqlite.insert(RATE_LIMIT_WINDOWS))
            hits = RATE_LIMIT_WINDOWS.c.hits
            statement = (insert.values(bucket=key, window_start=start, hits=1)
                         .on_conflict_do_update(index_elements=["bucket", "window_start"],
                                                set_={"hits": hits + 1}, where=hits < most)
                         .returning(hits))
            counted = conn.execute(statement).scalar_one_or_none()
            if counted is not None:
                return True, int(counted)
        current = self._hits(conn, [key], start).get(key, 0)
        return False, current

    def limits_for(self, agency: str | None) -> RateLimits:
        """The strictest limits of the agreements in force naming `agency` (cached a while)."""
        now = time.monotonic()
        cached = self._limits.get(agency)
        if cached is not None and now - cached[0] < LIMITS_TTL_SECONDS:
            return cached[1]
        limits = strictest(agreements_in_force(self.store, agency)) if agency else RateLimits()
        self._limits[agency] = (now, limits)
        return limits

    def _log_once(self, user: User, bucket: Bucket, start: int) -> None:
        """One warning per bucket and window in this process, not one per refused call."""
        if self._logged.get(bucket.key) != start:
            self._logged[bucket.key] = start
            log.warning("rate limit reached by %s (%s, agency %s): %s per minute for %s",
                        user.name, user.role, user.agency or "-", bucket.limit, bucket.what)


class _Rollback(Exception):
    """Raised inside the transaction to undo the counts of a refused call."""


def agreements_in_force(store: Store, agency: str, on: date | None = None) -> list[Agreement]:
    """The newest version of each agreement naming `agency` as the requester, in force `on`."""
    day = on or datetime.now(UTC).date()
    with store.reading() as conn:
        rows = conn.execute(select(AGREEMENTS.c.agreement_id, AGREEMENTS.c.text)
                            .order_by(AGREEMENTS.c.seq)).all()
    newest = {r.agreement_id: r.text for r in rows}
    found = []
    for agreement_id, text in newest.items():
        try:
            agreement = Agreement.from_toml_text(text, source=f"agreement {agreement_id}")
        except AgreementError:
            continue
        if agreement.requesting_agency == agency and agreement.in_force(day):
            found.append(agreement)
    return found


def strictest(agreements: list[Agreement]) -> RateLimits:
    if not agreements:
        return RateLimits()
    return RateLimits(
        requests_per_minute_per_token=min(
            a.rate_limits.requests_per_minute_per_token for a in agreements),
        requests_per_minute_per_agency=min(
            a.rate_limits.requests_per_minute_per_agency for a in agreements))


async def _rate_limited(request: Request, exc: Exception) -> Response:
    """The API's JSON error body; a web page gets the same message as a page."""
    assert isinstance(exc, RateLimited)
    headers = {"Retry-After": str(exc.retry_after)}
    if request.url.path.startswith("/web/"):
        return HTMLResponse(f"<!doctype html><title>Too many requests</title><h1>Too many "
                            f"requests</h1><p>{html.escape(exc.message)}</p>",
                            status_code=exc.status, headers=headers)
    body = ErrorBody(code=exc.code, message=exc.message)
    return JSONResponse(body.model_dump(), status_code=exc.status, headers=headers)


def install(app: FastAPI, store: Store) -> None:
    app.state.rate_limiter = RateLimiter(store)
    app.add_exception_handler(RateLimited, _rate_limited)
