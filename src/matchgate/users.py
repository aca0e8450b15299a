"""Users and API tokens. A token is shown once; only its SHA-256 is stored.

    token = add_user(store, name="alice", role="reviewer")     # "mg_..." printed once
    user = authenticate(store, token)                            # User(name, role, agency)
    revoke_tokens(store, name="alice")                           # every token of alice, now

A token lapses after its expiry (DEFAULT_TOKEN_DAYS unless the issuer says otherwise; tokens
issued before expiry was the default may have none) or when revoked. Anything that is not the
shape of a matchgate token is refused before the store is asked.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from matchgate.errors import InputError, MatchgateError, NotFound
from matchgate.store import Store, StoreConflict
from matchgate.store.models import API_TOKENS, ROLES, USERS

TOKEN_PREFIX = "mg_"
#: what a token looks like (new_token makes 43 URL-safe characters after the prefix)
TOKEN_SHAPE = re.compile(r"mg_[A-Za-z0-9_-]{20,128}")
DEFAULT_TOKEN_DAYS = 90
#: one answer for a malformed, unknown or revoked token, so that probing cannot tell them apart
UNKNOWN_TOKEN = "unknown or revoked API token"


class Unauthenticated(MatchgateError):
    code = "unauthenticated"
    status = 401
    exit_code = 2


class TokenExpired(Unauthenticated):
    code = "token_expired"


@dataclass(frozen=True)
class User:
    name: str
    role: str
    agency: str | None = None


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def check_user_fields(name: str, role: str, agency: str | None) -> None:
    if not name.strip():
        raise InputError("a user needs a name")
    if role not in ROLES:
        raise InputError(f"unknown role {role!r}; expected one of {', '.join(ROLES)}")
    if role == "requester" and not agency:
        raise InputError("a requester belongs to a requesting agency: give --agency")


def add_user(store: Store, *, name: str, role: str, agency: str | None = None,
             expires_in: timedelta | None = timedelta(days=DEFAULT_TOKEN_DAYS)) -> str:
    """Create the user with a first token; returns the token (it is not stored)."""
    check_user_fields(name, role, agency)
    now = datetime.now(UTC)
    try:
        with store.writing() as conn:
            conn.execute(USERS.insert().values(name=name, role=role, agency=agency,
                                               created_at=now, disabled=False))
    except IntegrityError as exc:
        raise StoreConflict(f"user {name!r} already exists") from exc
    return issue_token(store, name=name, expires_in=expires_in)


def issue_token(store: Store, *, name: str,
                expires_in: timedelta | None = timedelta(days=DEFAULT_TOKEN_DAYS)) -> str:
    """A new token for an existing user (expires_in=None: it never expires)."""
    token = new_token()
    now = datetime.now(UTC)
    with store.writing() as conn:
        if conn.execute(select(USERS.c.name).where(USERS.c.name == name)).first() is None:
            raise NotFound(f"no user {name!r}")
        conn.execute(API_TOKENS.insert().values(
            token_hash=token_hash(token), user_name=name, created_at=now,
            expires_at=now + expires_in if expires_in else None))
    return token


def revoke_tokens(store: Store, *, name: str) -> int:
    """Revoke every live token of the user at once; how many were revoked (NotFound: no user)."""
    now = datetime.now(UTC)
    with store.writing() as conn:
        if conn.execute(select(USERS.c.name).where(USERS.c.name == name)).first() is None:
            raise NotFound(f"no user {name!r}")
        done = conn.execute(API_TOKENS.update()
                            .where(API_TOKENS.c.user_name == name,
                                   API_TOKENS.c.revoked_at.is_(None))
                            .values(revoked_at=now))
    return int(done.rowcount or 0)


def authenticate(store: Store, token: str) -> User:
    """The user holding `token`; Unauthenticated for a malformed, unknown or revoked token (one
    answer for all three), TokenExpired for a lapsed one."""
    if not TOKEN_SHAPE.fullmatch(token):
        raise Unauthenticated(UNKNOWN_TOKEN)
    query = (select(USERS.c.name, USERS.c.role, USERS.c.agency, USERS.c.disabled,
                    API_TOKENS.c.expires_at, API_TOKENS.c.revoked_at)
             .join(USERS, USERS.c.name == API_TOKENS.c.user_name)
             .where(API_TOKENS.c.token_hash == token_hash(token)))
    with store.reading() as conn:
        row = conn.execute(query).first()
    if row is None or row.disabled or row.revoked_at is not None:
        raise Unauthenticated(UNKNOWN_TOKEN)
    if row.expires_at is not None and row.expires_at <= datetime.now(UTC):
        raise TokenExpired("the API token has expired; ask for a new one")
    return User(name=row.name, role=row.role, agency=row.agency)
