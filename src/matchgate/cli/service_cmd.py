"""The service's commands: `db upgrade`, `users add|token|revoke`, `serve` and `worker`.

Each users command writes one audit event (user.added, user.token_issued, user.tokens_revoked)
naming the user and what changed; a token never appears in the audit log."""

from __future__ import annotations

import signal
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer

from matchgate.audit import AuditEvent, AuditLog, EventType
from matchgate.errors import InputError
from matchgate.logs import LOG_LEVELS, configure_logging
from matchgate.pipeline import Actor
from matchgate.settings import Settings
from matchgate.store import Store, migrate
from matchgate.users import DEFAULT_TOKEN_DAYS, add_user, issue_token, revoke_tokens

db_app = typer.Typer(help="The operational store's schema.", no_args_is_help=True)
users_app = typer.Typer(help="Users of the service and their API tokens.", no_args_is_help=True)

ExpiresOpt = Annotated[int, typer.Option(
    "--expires-days", min=1, max=3650, help="Days until the token expires.")]
DatabaseOpt = Annotated[str | None, typer.Option(
    "--database", help="URL of the operational store (default: MATCHGATE_DATABASE_URL, or the "
                       "SQLite file in MATCHGATE_HOME)")]


def _audit(store: Store, event_type: str, details: dict[str, object]) -> None:
    """One audit event for a change to users or tokens, by whoever ran the command (never the
    token: only what was done, to whom, and until when)."""
    actor = Actor()
    AuditLog(store).append([AuditEvent(event_type=event_type, actor=actor.name, role=actor.role,
                                       origin=actor.origin, details=details)])


def _expiry(days: int) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat(timespec="seconds")


def _settings(database: str | None) -> Settings:
    settings = Settings()
    return settings.model_copy(update={"database_url": database}) if database else settings


@db_app.command("upgrade")
def db_upgrade(database: DatabaseOpt = None) -> None:
    """Create the operational store or bring it to the newest schema (Alembic migrations)."""
    settings = _settings(database)
    settings.ensure_home()
    with Store.open(settings.resolved_database_url()) as store:
        typer.echo(f"schema at revision {migrate.current_revision(store.engine)}")


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(help="The user's name (unique).", show_default=False)],
    role: Annotated[str, typer.Option(
        "--role", help="requester, reviewer, disclosure_officer or auditor.",
        show_default=False)],
    agency: Annotated[str | None, typer.Option(
        "--agency", help="The requesting agency (requesters only), as the agreement names it.")
    ] = None,
    expires_days: ExpiresOpt = DEFAULT_TOKEN_DAYS,
    database: DatabaseOpt = None,
) -> None:
    """Create a user and print its API token. The token is shown once; only its hash is kept."""
    settings = _settings(database)
    settings.ensure_home()
    with Store.open(settings.resolved_database_url()) as store:
        token = add_user(store, name=name, role=role, agency=agency,
                         expires_in=timedelta(days=expires_days))
        _audit(store, EventType.USER_ADDED, {"user": name, "user_role": role, "agency": agency,
                                             "token_expires": _expiry(expires_days)})
    typer.echo(token)


@users_app.command("token")
def users_token(
    name: Annotated[str, typer.Argument(help="An existing user.", show_default=False)],
    expires_days: ExpiresOpt = DEFAULT_TOKEN_DAYS,
    database: DatabaseOpt = None,
) -> None:
    """Issue another API token for a user (to rotate: issue, switch over, then revoke the old)."""
    settings = _settings(database)
    with Store.open(settings.resolved_database_url()) as store:
        token = issue_token(store, name=name, expires_in=timedelta(days=expires_days))
        _audit(store, EventType.USER_TOKEN_ISSUED, {"user": name,
                                                    "token_expires": _expiry(expires_days)})
    typer.echo(token)


@users_app.command("revoke")
def users_revoke(
    name: Annotated[str, typer.Argument(help="The user whose tokens to revoke.",
                                        show_default=False)],
    database: DatabaseOpt = None,
) -> None:
    """Revoke every API token of a user, effective on the next call."""
    settings = _settings(database)
    with Store.open(settings.resolved_database_url()) as store:
        count = revoke_tokens(store, name=name)
        _audit(store, EventType.USER_TOKENS_REVOKED, {"user": name, "revoked": count})
    typer.echo(f"revoked {count} token{'s' if count != 1 else ''} of {name}")


def tls_files(settings: Settings) -> tuple[str, str] | tuple[None, None]:
    """uvicorn's ssl_certfile/ssl_keyfile from MATCHGATE_TLS_CERT/_KEY: both or neither, files."""
    cert, key = settings.tls_cert, settings.tls_key
    if cert is None and key is None:
        return None, None
    if cert is None or key is None:
        raise InputError("TLS needs both MATCHGATE_TLS_CERT and MATCHGATE_TLS_KEY (files)")
    for setting, path in (("MATCHGATE_TLS_CERT", cert), ("MATCHGATE_TLS_KEY", key)):
        if not Path(path).is_file():
            raise InputError(f"{setting}: no such file {path}")
    return str(cert), str(key)


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    log_level: Annotated[str, typer.Option(
        help="Level of every logger (matchgate, uvicorn, sqlalchemy): "
             + ", ".join(LOG_LEVELS) + ".")] = "info",
) -> None:
    """Serve the HTTP API (OpenAPI at /openapi.json, docs at /docs) with uvicorn; over HTTPS when
    MATCHGATE_TLS_CERT and MATCHGATE_TLS_KEY name a certificate and its key."""
    import uvicorn

    from matchgate.api import create_app

    settings = Settings()
    certfile, keyfile = tls_files(settings)
    configure_logging(log_level)
    app = create_app(settings)
    uvicorn.run(app, host=host, port=port, access_log=False, log_level=log_level,
                log_config=None, ssl_certfile=certfile, ssl_keyfile=keyfile)


def worker(
    once: Annotated[bool, typer.Option("--once", help="Run at most one batch, then exit.")]
    = False,
    log_level: Annotated[str, typer.Option(
        help="Level of every logger: " + ", ".join(LOG_LEVELS) + ".")] = "info",
) -> None:
    """Claim queued batches from the operational store and run them, until stopped."""
    from matchgate.service import Services
    from matchgate.worker import Worker

    configure_logging(log_level)
    runner = Worker(Services.open(Settings()))
    if once:
        runner.run_once()
        return
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    runner.run_forever(stop)


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")
    app.add_typer(users_app, name="users")
    app.command("serve")(serve)
    app.command("worker")(worker)
