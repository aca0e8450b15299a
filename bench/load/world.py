"""The world a load run drives: synthetic data, a master store, an operational store with an
agreement whose rate limits fit the load, users with tokens, and the real `matchgate serve` and
`matchgate worker` processes on it.

Shared by bench/load/run.py and tests/test_load_fast.py.
"""

from __future__ import annotations

import csv
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from matchgate.examples import example_path
from matchgate.intake import load_manifest
from matchgate.master.generate import generate
from matchgate.master.load import load_master
from matchgate.match.fastpath import FastPath
from matchgate.service import Services
from matchgate.settings import Settings
from matchgate.users import add_user

AGENCY = "Immigration enforcement agency"
SRC = Path(__file__).resolve().parents[2] / "src"


@dataclass
class World:
    """What the clients need: the server's address, tokens, request rows and the manifest."""

    base_url: str
    settings: Settings
    requester_tokens: list[str]
    reviewer_tokens: list[str]
    header: list[str]
    rows: list[dict[str, str]]
    manifest: dict[str, str]
    manifest_toml: bytes
    logs: list[Path] = field(default_factory=list)
    pids: dict[str, int] = field(default_factory=dict)  # "serve", "worker-0", ...


def cpu_seconds(pid: int) -> float | None:
    """User and system CPU time of a process so far (Linux /proc; None elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def agreement_text(per_token: int, per_agency: int) -> str:
    """The example agreement with rate limits raised for the load (the defaults, 600 a minute
    per token and 3,000 per agency, would answer 429 to fifty busy clients)."""
    text = example_path("agreement.toml").read_text(encoding="utf-8")
    return text + (f"\n[rate_limits]\nrequests_per_minute_per_token = {per_token}\n"
                   f"requests_per_minute_per_agency = {per_agency}\n")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def process_env(settings: Settings, **extra: str) -> dict[str, str]:
    """A matchgate subprocess's environment: this checkout's code and the settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MATCHGATE_")}
    env["PYTHONPATH"] = os.pathsep.join([str(SRC), *filter(None, [env.get("PYTHONPATH")])])
    env["MATCHGATE_HOME"] = str(settings.home)
    env["MATCHGATE_DATABASE_URL"] = settings.resolved_database_url()
    env["MATCHGATE_MATCH_STORE"] = str(settings.resolved_match_store())
    env.update(extra)
    return env


@contextmanager
def process(args: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`python -m matchgate ARGS`, stopped (SIGTERM, then SIGKILL) on the way out."""
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "matchgate", *args], env=env,
                                stdout=out, stderr=subprocess.STDOUT)
        try:
            yield proc
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def wait_until_serving(base_url: str, proc: subprocess.Popen[bytes], log: Path,
                       timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"matchgate serve exited with {proc.returncode}: "
                               f"{log.read_text(errors='replace')[-2000:]}")
        try:
            httpx.get(f"{base_url}/openapi.json", timeout=2)
            return
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def prepare(work: Path, database_url: str, *, taxpayers: int, requests: int, seed: int,
            requesters: int, reviewers: int, per_token: int = 100_000,
            per_agency: int = 1_000_000) -> tuple[Settings, list[str], list[str]]:
    """Data, master store (and its fast path index), agreement and users; no process yet."""
    home = work / "home"
    home.mkdir(parents=True, exist_ok=True)
    report = generate(work / "data", taxpayers=taxpayers, requests=requests, seed=seed)
    settings = Settings(home=home, database_url=database_url,
                        match_store=home / "master.duckdb")
    load_master(report.master_path, settings.resolved_match_store())
    FastPath(settings.resolved_match_store())  # built once here, not in the first request
    agreement = work / "agreement.toml"
    agreement.write_text(agreement_text(per_token, per_agency), encoding="utf-8")
    services = Services.open(settings)
    try:
        services.load_agreement(agreement)
        req = [add_user(services.store, name=f"load-requester-{n}", role="requester",
                        agency=AGENCY) for n in range(requesters)]
        rev = [add_user(services.store, name=f"load-reviewer-{n}", role="reviewer")
               for n in range(reviewers)]
    finally:
        services.store.close()
    (work / "data" / "requests.csv").replace(work / "requests.csv")
    (work / "data" / "manifest.toml").replace(work / "manifest.toml")
    return settings, req, rev


@contextmanager
def running(work: Path, settings: Settings, requester_tokens: list[str],
            reviewer_tokens: list[str], *, workers: int, log_level: str = "warning"
            ) -> Iterator[World]:
    """`matchgate serve` and `workers` x `matchgate worker` on the prepared stores."""
    with (work / "requests.csv").open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        header = list(reader.fieldnames or [])
        rows = list(reader)
    manifest_path = work / "manifest.toml"
    manifest = load_manifest(manifest_path).model_dump(mode="json", exclude_none=True)
    port = free_port()
    env = process_env(settings)
    with ExitStack() as stack:
        serve_log = work / "serve.log"
        server = stack.enter_context(process(
            ["serve", "--port", str(port), "--log-level", log_level], env, serve_log))
        logs = [serve_log]
        pids = {"serve": server.pid}
        for n in range(workers):
            log = work / f"worker-{n}.log"
            pids[f"worker-{n}"] = stack.enter_context(
                process(["worker", "--log-level", log_level], env, log)).pid
            logs.append(log)
        base_url = f"http://127.0.0.1:{port}"
        wait_until_serving(base_url, server, serve_log)
        yield World(base_url=base_url, settings=settings, requester_tokens=requester_tokens,
                    reviewer_tokens=reviewer_tokens, header=header, rows=rows,
                    manifest=manifest, manifest_toml=manifest_path.read_bytes(), logs=logs,
                    pids=pids)
