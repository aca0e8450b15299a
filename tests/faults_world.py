"""What the fault tests share: a small world (master store, agreement, a store on SQLite or
PostgreSQL), batches queued as the API queues them, and real `matchgate worker` processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import matchgate
from matchgate.audit.consistency import ConsistencyReport, check_store
from matchgate.examples import example_path
from matchgate.intake import load_manifest
from matchgate.master.generate import GenerateReport, generate
from matchgate.master.load import load_master
from matchgate.pipeline import batch_id_for
from matchgate.service import Services
from matchgate.settings import Settings
from matchgate.store import Store, jobs

SRC = str(Path(matchgate.__file__).resolve().parents[1])
CHUNK = 40
LEASE_SECONDS = 1


def make_population(folder: Path, *, requests: int = 220, seed: int = 41) -> GenerateReport:
    return generate(folder, taxpayers=1200, requests=requests, seed=seed)


def make_master(population: GenerateReport, folder: Path) -> Path:
    path = folder / "master.duckdb"
    load_master(population.master_path, path, workers=1)
    return path


@dataclass
class FaultWorld:
    """One operational store with the agreement loaded, and the means to run workers on it."""

    home: Path
    database_url: str
    master: Path
    population: GenerateReport
    env_extra: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.settings = Settings(home=self.home, database_url=self.database_url,
                                 match_store=self.master)
        self.services = Services.open(self.settings)
        self.services.load_agreement(example_path("agreement.toml"))
        self.runs = 0

    @property
    def store(self) -> Store:
        return self.services.store

    def submit(self, rows: slice = slice(None), name: str = "requests.csv") -> str:
        """Queue the population's requests (a slice of them) as the API does; the batch id."""
        lines = self.population.requests_path.read_text(encoding="utf-8").splitlines()
        path = self.home / "uploads" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join([lines[0], *lines[1:][rows]]) + "\n", encoding="utf-8")
        manifest = load_manifest(self.population.manifest_path)
        agreement = self.services.agreement_in_force(manifest.agreement_id)
        batch_id = batch_id_for(path, manifest, agreement)
        jobs.submit_job(self.store, batch_id=batch_id, agency=agreement.requesting_agency,
                        agreement_id=agreement.agreement_id,
                        agreement_version=agreement.version, submitted_by="fault-test",
                        idempotency_key=None, source_name=path.name,
                        content=path.read_bytes(), manifest=manifest.model_dump(mode="json"),
                        release="not_required")
        return batch_id

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("MATCHGATE_")}
        env.update(PYTHONPATH=SRC, MATCHGATE_HOME=str(self.home),
                   MATCHGATE_DATABASE_URL=self.database_url,
                   MATCHGATE_MATCH_STORE=str(self.master), MATCHGATE_BATCH_CHUNK=str(CHUNK),
                   MATCHGATE_WORKER_LEASE_SECONDS=str(LEASE_SECONDS),
                   MATCHGATE_WORKER_POLL_SECONDS="0.2")
        env.update(self.env_extra)
        env.update(extra)
        return env

    def start_worker(self, *args: str, **env: str) -> subprocess.Popen[bytes]:
        """A real `matchgate worker` process (its output in home/worker-N.log)."""
        self.runs += 1
        log = (self.home / f"worker-{self.runs}.log").open("wb")
        return subprocess.Popen([sys.executable, "-m", "matchgate", "worker", *args],
                                env=self.env(**env), stdout=log, stderr=subprocess.STDOUT)

    def log_tail(self) -> str:
        path = self.home / f"worker-{self.runs}.log"
        return path.read_text(encoding="utf-8", errors="replace")[-3000:]

    def run_worker(self, *, fault: str | None = None, timeout: float = 240, **env: str) -> int:
        """Run `matchgate worker --once` (after the last worker's lease lapsed), stopped at the
        fault point named if it gets there; its return code (-9 when killed)."""
        time.sleep(LEASE_SECONDS + 0.1)
        extra = {"MATCHGATE_FAULT_AT": fault} if fault else {}
        process = self.start_worker("--once", **extra, **env)
        try:
            return process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGKILL)
            process.wait()
            raise AssertionError(f"worker ran over {timeout} s:\n{self.log_tail()}") from None

    def job(self, batch_id: str) -> dict[str, object]:
        job = jobs.get_job(self.store, batch_id=batch_id)
        assert job is not None
        return job

    def check(self, batch_id: str | None = None) -> ConsistencyReport:
        report = check_store(self.store, batch_id=batch_id)
        assert report.ok, report.summary()
        return report

    def assert_done_once(self, batch_id: str, requests: int) -> None:
        """The batch is done: each request decided and answered exactly once, chain intact."""
        assert self.job(batch_id)["status"] == "done", self.log_tail()
        batch = self.store.get_batch(batch_id=batch_id)
        assert batch is not None and batch["status"] == "done"
        assert len(self.store.decisions_for_batch(batch_id=batch_id)) == requests
        report = self.check(batch_id)
        assert report.requests == requests
