"""The service's commands: `db upgrade`, `users add`, `serve` and `worker`."""

from __future__ import annotations

import logging
import signal
import threading
from typing import Annotated

import typer

from matchgate.settings import Settings
from matchgate.store import Store, migrate
from matchgate.users import add_user

db_app = typer.Typer(help="The operational store's schema.", no_args_is_help=True)
users_app = typer.Typer(help="Users of the service and their API tokens.", no_args_is_help=True)

DatabaseOpt = Annotated[str | None, typer.Option(
    "--database", help="URL of the operational store (default: MATCHGATE_DATABASE_URL, or the "
                       "SQLite file in MATCHGATE_HOME)")]


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
    database: DatabaseOpt = None,
) -> None:
    """Create a user and print its API token. The token is shown once; only its hash is kept."""
    settings = _settings(database)
    settings.ensure_home()
    with Store.open(settings.resolved_database_url()) as store:
        token = add_user(store, name=name, role=role, agency=agency)
    typer.echo(token)


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Serve the HTTP API (OpenAPI at /openapi.json, docs at /docs) with uvicorn."""
    import uvicorn

    from matchgate.api import create_app

    app = create_app(Settings())
    uvicorn.run(app, host=host, port=port, access_log=False, log_level="info")


def worker(
    once: Annotated[bool, typer.Option("--once", help="Run at most one batch, then exit.")]
    = False,
) -> None:
    """Claim queued batches from the operational store and run them, until stopped."""
    from matchgate.service import Services
    from matchgate.worker import Worker

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
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
