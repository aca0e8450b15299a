"""No TIN, name, address line or token in any log line at any level.

A whole run (CLI verify of a batch, a lookup, an API upload worked by the worker, a review
decision, the answers read) with every logger at DEBUG, captured in process (caplog, raw records
before any redaction) and from a real `matchgate serve --log-level debug` and `matchgate worker`
(their stderr). Every line is scanned for the run's TINs, names, address lines and tokens.
"""

from __future__ import annotations

import csv
import logging
import re
import subprocess
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient

from conftest import postgres_schema_url
from matchgate.api import create_app
from matchgate.examples import example_path
from matchgate.logs import redact
from matchgate.master.generate import GenerateReport, generate
from matchgate.service import Services
from matchgate.settings import Settings
from matchgate.worker import Worker
from served import matchgate_env, served

AGENCY = "Immigration enforcement agency"
LOGGERS = ("", "sqlalchemy", "uvicorn", "uvicorn.error", "uvicorn.access", "httpx", "httpcore",
           "alembic", "matchgate", "multipart", "python_multipart", "duckdb", "fastapi")
DIGITS = re.compile(r"\d[\d-]{7,}\d")


@pytest.fixture(scope="module")
def population(tmp_path_factory: pytest.TempPathFactory) -> GenerateReport:
    return generate(tmp_path_factory.mktemp("gen"), taxpayers=2000, requests=300, seed=23)


@dataclass
class Secrets:
    """What must not be logged: the run's TINs, names, address lines and tokens."""

    tins: set[str] = field(default_factory=set)
    phrases: set[str] = field(default_factory=set)  # lower case

    @classmethod
    def of(cls, population: GenerateReport) -> Secrets:
        found = cls()
        master = pq.read_table(population.master_path,
                               columns=["tin", "first_name", "last_name", "street"]).to_pylist()
        found.tins = {re.sub(r"\D", "", r["tin"]) for r in master}
        with population.requests_path.open(newline="", encoding="utf-8") as fh:
            requests = list(csv.DictReader(fh))
        found.tins |= {re.sub(r"\D", "", r["tin"]) for r in requests if r["tin"]}
        people = [*requests, *master[:300]]
        found.phrases = {f"{p['first_name']} {p['last_name']}".lower() for p in people}
        found.phrases |= {p["last_name"].lower() for p in people if len(p["last_name"]) >= 6}
        found.phrases |= {p["street"].lower() for p in people if p["street"]}
        return found

    def leaks(self, lines: Iterable[str], tokens: Iterable[str]) -> list[str]:
        tokens = list(tokens)
        out = []
        for line in lines:
            low = line.lower()
            why = [t for t in tokens if t in line]
            why += [d for d in DIGITS.findall(line) if re.sub(r"\D", "", d) in self.tins]
            why += [p for p in self.phrases if p in low and re.search(
                rf"(?<![a-z0-9]){re.escape(p)}(?![a-z0-9])", low)]
            if why:
                out.append(f"{why[:3]} in: {line[:300]}")
        return out


def split_requests(population: GenerateReport, folder: Path) -> tuple[Path, Path]:
    """The request file in two halves: one for the CLI, one for the API."""
    lines = population.requests_path.read_text(encoding="utf-8").splitlines(keepends=True)
    half = len(lines) // 2
    first, second = folder / "cli.csv", folder / "api.csv"
    first.write_text("".join(lines[:half]), encoding="utf-8")
    second.write_text(lines[0] + "".join(lines[half:]), encoding="utf-8")
    return first, second


def cli_half(cli: Callable[..., tuple[int, str]], population: GenerateReport, home: Path,
             requests: Path) -> list[str]:
    """Load the master and the agreement, verify a batch and look one person up, from the CLI;
    returns the tokens of a requester and a reviewer."""
    for args in (("master", "load", str(population.master_path)),
                 ("agreement", "load", str(example_path("agreement.toml"))),
                 ("verify", str(requests), "--manifest", str(population.manifest_path),
                  "--out", str(home / "responses.csv"))):
        code, out = cli(*args)
        assert code == 0, out
    with requests.open(newline="", encoding="utf-8") as fh:
        person = next(csv.DictReader(fh))
    code, out = cli("lookup", "--manifest", str(population.manifest_path),
                    "--first", person["first_name"], "--last", person["last_name"],
                    "--street", person["street"], "--city", person["city"],
                    "--state", person["state"], "--zip", person["zip"],
                    "--tax-periods", person["tax_periods"],
                    "--statutory-authority", person["statutory_authority"],
                    "--reason", person["reason"], "--case-number", person["case_number"],
                    "--order-date", person["order_date"])
    assert code == 0, out
    tokens = []
    for name, role in (("analyst", "requester"), ("rev", "reviewer")):
        extra = ("--agency", AGENCY) if role == "requester" else ()
        code, out = cli("users", "add", name, "--role", role, *extra)
        assert code == 0, out
        tokens.append(out.strip().splitlines()[-1])
    return tokens


def api_half(client: httpx.Client | TestClient, tokens: list[str], population: GenerateReport,
             requests: Path, work: Callable[[], object]) -> None:
    """Upload a batch, let `work` run it, decide a review item, read the answers; and a bad call
    whose values must not be logged either."""
    requester, reviewer = ({"Authorization": f"Bearer {t}"} for t in tokens)
    r = client.post("/api/v1/batches", headers=requester, files={
        "file": ("requests.csv", requests.read_bytes(), "text/csv"),
        "manifest": ("manifest.toml", population.manifest_path.read_bytes(), "application/toml")})
    assert r.status_code == 202, r.text
    batch = r.json()["batch_id"]
    work()
    items = client.get("/api/v1/reviews", headers=reviewer,
                       params={"batch_id": batch}).json()["items"]
    assert items, "the run needs an item in review"
    base = f"/api/v1/reviews/{batch}/{items[0]['request_id']}"
    assert client.post(f"{base}/claim", headers=reviewer).status_code == 200
    r = client.post(f"{base}/decision", headers=reviewer,
                    json={"outcome": "approved", "reason": "dob and address agree"})
    assert r.status_code == 200, r.text
    assert client.get(f"/api/v1/batches/{batch}/responses", headers=requester,
                      params={"format": "csv"}).status_code == 200
    bad = requests.read_text(encoding="utf-8").replace(",", ";", 40)
    assert client.post("/api/v1/batches", headers=requester, files={
        "file": ("bad.csv", bad.encode(), "text/csv"),
        "manifest": ("manifest.toml", b"not = [toml", "application/toml"),
    }).status_code in (400, 422)
    assert client.get("/api/v1/me", headers={
        "Authorization": f"Bearer {tokens[0][:-4]}XXXX"}).status_code == 401


@pytest.fixture
def debug_everything(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    saved = {name: logging.getLogger(name).level for name in LOGGERS}
    for name in LOGGERS:
        logging.getLogger(name).setLevel(logging.DEBUG)
    caplog.set_level(logging.DEBUG)
    yield caplog
    for name, level in saved.items():
        logging.getLogger(name).setLevel(level)


def test_no_secret_in_any_log_record_of_a_full_run(
        store_url: str, population: GenerateReport, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, cli: Callable[..., tuple[int, str]],
        debug_everything: pytest.LogCaptureFixture) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("MATCHGATE_HOME", str(home))
    monkeypatch.setenv("MATCHGATE_DATABASE_URL", store_url)
    cli_requests, api_requests = split_requests(population, tmp_path)
    tokens = cli_half(cli, population, home, cli_requests)
    services = Services.open(Settings())
    with TestClient(create_app(services.settings, services=services)) as client:
        api_half(client, tokens, population, api_requests,
                 lambda: Worker(services, name="w").run_once() and None)
    services.store.close()
    records = debug_everything.records
    lines = [r.getMessage() + (f"\n{r.exc_text}" if r.exc_text else "") for r in records]
    assert sum(r.name.startswith("sqlalchemy.engine") for r in records) > 50  # SQL was logged
    assert any(r.name.startswith("matchgate.worker") for r in records)
    assert Secrets.of(population).leaks(lines, tokens) == []


@pytest.fixture
def postgres_url() -> Iterator[str]:
    yield from postgres_schema_url()


def test_no_secret_in_the_logs_of_the_real_server_and_worker(
        population: GenerateReport, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        cli: Callable[..., tuple[int, str]], postgres_url: str) -> None:
    """Production settings: the store on PostgreSQL, `matchgate serve` and `matchgate worker`
    as processes, every logger at DEBUG; their stderr is scanned."""
    home = tmp_path / "home"
    monkeypatch.setenv("MATCHGATE_HOME", str(home))
    monkeypatch.setenv("MATCHGATE_DATABASE_URL", postgres_url)
    cli_requests, api_requests = split_requests(population, tmp_path)
    tokens = cli_half(cli, population, home, cli_requests)
    env = matchgate_env(home=str(home), database_url=postgres_url)
    worker_log = tmp_path / "worker.log"

    def work() -> None:
        done = subprocess.run([sys.executable, "-m", "matchgate", "worker", "--once",
                               "--log-level", "debug"], env=env, capture_output=True,
                              timeout=300)
        worker_log.write_bytes(done.stdout + done.stderr)
        assert done.returncode == 0, worker_log.read_text(errors="replace")[-2000:]

    server_log = tmp_path / "serve.log"
    with served(env, server_log, "--log-level", "debug") as base, \
            httpx.Client(base_url=base, timeout=60) as client:
        api_half(client, tokens, population, api_requests, work)
    lines = [*server_log.read_text(errors="replace").splitlines(),
             *worker_log.read_text(errors="replace").splitlines()]
    assert any("sqlalchemy.engine" in line for line in lines)  # DEBUG reached the handler
    assert any("matchgate.worker" in line for line in lines)
    assert Secrets.of(population).leaks(lines, tokens) == []


def test_the_redacting_filter_removes_tokens_tins_and_credentials() -> None:
    line = ("Authorization: Bearer mg_abcdefghijklmnopqrstuvwxyz012345 tin 123-45-6789 "
            "ein 12-3456789 raw 123456789 header Basic dXNlcjpwYXNz; keep A123456789, "
            "2026-11-25 10:00:00,123 and batch 4f9c2a")
    clean = redact(line)
    for secret in ("mg_abcdef", "123-45-6789", "12-3456789", " 123456789", "dXNlcjpwYXNz"):
        assert secret not in clean, secret
    assert "A123456789" in clean and "2026-11-25 10:00:00,123" in clean and "4f9c2a" in clean
