"""Options shared by several command groups."""

from __future__ import annotations

from typing import Annotated

import typer

from matchgate.settings import Settings

DatabaseOption = Annotated[str | None, typer.Option(
    "--database", help="URL of the operational store (default: MATCHGATE_DATABASE_URL, "
                       "or the SQLite file in MATCHGATE_HOME)")]


def database_url(database: str | None) -> str:
    """The store the user named, else the one the settings point at."""
    return database or Settings().resolved_database_url()
