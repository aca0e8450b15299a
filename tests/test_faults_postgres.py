"""PostgreSQL restarted in the middle of a batch: the worker loses its connection inside a
chunk's transaction, puts the batch back in the queue, and resumes it once the database is back;
the batch completes, every request answered once, nothing disclosed twice, the chain intact.

The shared server is never touched: the test starts a private cluster (initdb as the postgres
user, pg_ctl on a free port, its socket in the cluster's folder) and removes it at the end. It
skips only where initdb is missing and CI is not set (in CI it must run).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from faults_world import FaultWorld, make_master, make_population
from matchgate.master.generate import GenerateReport
from matchgate.service import Services
from matchgate.store import jobs
from matchgate.worker import Worker

PG_BIN = Path(os.environ.get("MATCHGATE_TEST_PG_BIN", "/usr/lib/postgresql/15/bin"))
OS_USER = "postgres"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Cluster:
    """A private PostgreSQL cluster in a temporary folder owned by the postgres user."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="matchgate-pg-"))
        shutil.chown(self.folder, user=OS_USER, group=OS_USER)
        self.data = self.folder / "data"
        self.port = _free_port()
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/test"

    def _as_postgres(self, *args: str) -> None:
        subprocess.run(["runuser", "-u", OS_USER, "--", *args], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, timeout=120)

    def _ctl(self, action: str, *extra: str) -> None:
        self._as_postgres(str(PG_BIN / "pg_ctl"), action, "-D", str(self.data), "-w",
                          "-l", str(self.folder / "server.log"), *extra,
                          "-o", f"-p {self.port} -k {self.folder} "
                                "-c listen_addresses=127.0.0.1 -c fsync=off")

    def create(self) -> None:
        self._as_postgres(str(PG_BIN / "initdb"), "-D", str(self.data), "-A", "trust",
                          "-U", "postgres", "--no-sync")
        self._ctl("start")
        with psycopg.connect(host="127.0.0.1", port=self.port, user="postgres",
                             dbname="postgres", autocommit=True) as conn:
            conn.execute("CREATE DATABASE test")

    def restart(self) -> None:
        """Stop (fast: every session is cut off, open transactions roll back), then start."""
        self._ctl("restart", "-m", "fast")

    def stop(self) -> None:
        self._ctl("stop", "-m", "fast")

    def start(self) -> None:
        self._ctl("start")

    def destroy(self) -> None:
        try:
            if (self.data / "postmaster.pid").exists():
                self._as_postgres(str(PG_BIN / "pg_ctl"), "stop", "-D", str(self.data),
                                  "-m", "immediate", "-w")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    if not (PG_BIN / "initdb").exists() or shutil.which("runuser") is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{PG_BIN / 'initdb'} (or runuser) is missing; CI must run this test")
        pytest.skip(f"no {PG_BIN / 'initdb'} to start a private PostgreSQL cluster")
    cluster = Cluster()
    try:
        cluster.create()
        yield cluster
    finally:
        cluster.destroy()


@pytest.fixture(scope="module")
def population(tmp_path_factory: pytest.TempPathFactory) -> GenerateReport:
    return make_population(tmp_path_factory.mktemp("pg-data"))


@pytest.fixture(scope="module")
def master(population: GenerateReport, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_master(population, tmp_path_factory.mktemp("pg-master"))


def _wait_for(path: Path, process: subprocess.Popen[bytes], world: FaultWorld,
              timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert process.poll() is None, f"the worker ended early:\n{world.log_tail()}"
        assert time.monotonic() < deadline, f"never reached {path.name}:\n{world.log_tail()}"
        time.sleep(0.05)


def _wait_done(world: FaultWorld, batch: str, process: subprocess.Popen[bytes],
               timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while world.job(batch)["status"] != "done":
        assert process.poll() is None, f"the worker ended:\n{world.log_tail()}"
        assert time.monotonic() < deadline, f"the batch never finished:\n{world.log_tail()}"
        time.sleep(0.2)


def test_postgres_restarted_mid_batch_the_batch_completes_once(
        cluster: Cluster, tmp_path: Path, master: Path, population: GenerateReport) -> None:
    world = FaultWorld(tmp_path, cluster.url, master, population)
    try:
        batch = world.submit()
        # the worker stops inside its second chunk's transaction and waits there
        worker = world.start_worker(MATCHGATE_FAULT_AT="record:2",
                                    MATCHGATE_FAULT_ACTION="wait",
                                    MATCHGATE_FAULT_DIR=str(tmp_path))
        try:
            marker = tmp_path / "record.reached"
            _wait_for(marker, worker, world)
            decided_before = len(world.store.decisions_for_batch(batch_id=batch))
            cluster.restart()
            marker.unlink()  # the worker goes on, on a connection the restart cut
            _wait_done(world, batch, worker)
        finally:
            worker.send_signal(signal.SIGTERM)
            worker.wait(timeout=60)
        log = (tmp_path / f"worker-{world.runs}.log").read_text(encoding="utf-8")
        assert "the database connection failed" in log, log[-3000:]
        assert "released to the queue" in log, log[-3000:]
        job = world.job(batch)
        assert job["attempts"] == 2 and job["error"] is None
        assert 0 < decided_before < population.requests
        world.assert_done_once(batch, population.requests)
    finally:
        world.services.store.close()


def test_the_heartbeat_outlives_a_database_outage(
        cluster: Cluster, tmp_path: Path, master: Path, population: GenerateReport) -> None:
    world = FaultWorld(tmp_path, cluster.url, master, population)
    services = Services.open(world.settings.model_copy(update={"worker_lease_seconds": 3}))
    try:
        worker = Worker(services, name="heartbeat-test")
        batch = world.submit(slice(0, 10), "heartbeat.csv")
        assert jobs.claim_job(services.store, worker=worker.name, lease=worker.lease) == batch
        with worker._heartbeat(batch):
            cluster.stop()  # beats fail for two seconds; the thread retries, it does not die
            time.sleep(2)
            cluster.start()
            back = datetime.now(UTC)
            deadline = time.monotonic() + 10
            while True:
                lease = world.job(batch)["lease_until"]
                assert isinstance(lease, datetime)
                if lease > back + timedelta(seconds=2):
                    break  # renewed after the database came back
                assert time.monotonic() < deadline, "the lease was not renewed after the outage"
                time.sleep(0.2)
            assert any(t.name == f"heartbeat-{batch}" for t in threading.enumerate())
        jobs.finish_job(services.store, batch_id=batch, worker=worker.name)
    finally:
        services.store.close()
        world.services.store.close()
