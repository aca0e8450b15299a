"""Shared fixtures: a fresh operational store on SQLite and on PostgreSQL.

`store_url` runs a test once on a SQLite file and once on PostgreSQL
(MATCHGATE_TEST_POSTGRES_URL, default postgresql+psycopg://postgres@127.0.0.1:5432/test). Every
PostgreSQL test gets a schema of its own, created before and dropped after, so tests never see
each other's tables. An unreachable PostgreSQL skips those tests, except when CI=true, where it
fails them.
"""

from __future__ import annotations

import csv
import os
import sys
import uuid
from collections.abc import Callable, Iterator
from datetime import date
from functools import cache
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from api_world import World, make_world
from matchgate.agreement import load_agreement
from matchgate.cli.main import run
from matchgate.intake import RequestRow, load_manifest
from matchgate.master.generate import GenerateReport, generate
from matchgate.master.load import load_master
from matchgate.store import Store

# the example agreements and manifests, and a fixed day, for the gate's tests
ROOT = Path(__file__).resolve().parents[1]
AGREEMENT = load_agreement(ROOT / "examples" / "agreement.toml")
MANIFEST = load_manifest(ROOT / "examples" / "manifest.toml")
COURT = load_agreement(ROOT / "examples" / "agreement-court-order.toml")
COURT_MANIFEST = load_manifest(ROOT / "examples" / "manifest-court-order.toml")
TODAY = date(2026, 1, 15)

POSTGRES_URL = os.environ.get("MATCHGATE_TEST_POSTGRES_URL",
                              "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@cache
def postgres_problem() -> str | None:
    """Why PostgreSQL cannot be used, or None if it can."""
    engine = create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except DBAPIError as exc:
        return f"PostgreSQL at {POSTGRES_URL} is unreachable: {exc.orig}"
    finally:
        engine.dispose()
    return None


def postgres_schema_url() -> Iterator[str]:
    problem = postgres_problem()
    if problem is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(problem)
        pytest.skip(problem)
    schema = f"t_{uuid.uuid4().hex[:16]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    finally:
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
              ) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('store') / 'matchgate.sqlite'}"
    else:
        yield from postgres_schema_url()


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    with Store.open(store_url) as opened:
        yield opened


# -- the API's small world (tests/api_world.py), for modules that define `population` ----------

@pytest.fixture(scope="module")
def master(population: GenerateReport, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The module's population loaded into a master store."""
    path = tmp_path_factory.mktemp("master") / "master.duckdb"
    load_master(population.master_path, path)
    return path


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
          master: Path, population: GenerateReport) -> Iterator[World]:
    """Users of every role and one batch run by the worker, on SQLite and on PostgreSQL."""
    home = tmp_path_factory.mktemp("home")
    if request.param == "sqlite":
        yield from make_world(home, f"sqlite:///{home / 'ops.sqlite'}", master, population)
    else:
        for url in postgres_schema_url():
            yield from make_world(home, url, master, population)


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
        ) -> Iterator[Callable[..., tuple[int, str]]]:
    """The real entry point (`matchgate ARGS`), in process: (exit code, what it printed)."""
    def invoke(*args: str) -> tuple[int, str]:
        monkeypatch.setattr(sys, "argv", ["matchgate", *args])
        with pytest.raises(SystemExit) as exited:
            run()
        captured = capsys.readouterr()
        return int(exited.value.code or 0), captured.out + captured.err
    yield invoke


def loaded_sample(tmp: Path, *, taxpayers: int, requests: int, seed: int
                  ) -> tuple[Path, list[RequestRow]]:
    """A generated master loaded into a store under `tmp`, and its requests as read rows."""
    report = generate(tmp / "g", taxpayers=taxpayers, requests=requests, seed=seed)
    load_master(report.master_path, tmp / "store.duckdb", workers=1)
    with report.requests_path.open(newline="", encoding="utf-8") as fh:
        rows = [RequestRow(n, r["request_id"], {k: (v or None) for k, v in r.items()})
                for n, r in enumerate(csv.DictReader(fh), start=1)]
    return tmp / "store.duckdb", rows
