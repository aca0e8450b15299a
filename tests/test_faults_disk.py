"""A full temporary folder (MATCHGATE_TMP_DIR on a small tmpfs mounted for the test): the batch
stops with a clear error (CLI exit 75, the worker puts the batch back in the queue, the API
answers 507), keeps what it recorded, and completes once when space returns.

Mounting needs root; the test skips without it, except in CI.
"""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from faults_world import FaultWorld, make_master, make_population
from matchgate.api import create_app
from matchgate.diskspace import TempSpace, use_tmp_dir
from matchgate.errors import NoSpace
from matchgate.master.generate import GenerateReport
from matchgate.settings import Settings
from matchgate.store.models import BATCHES
from matchgate.users import add_user

TMPFS_MB = 8
EX_TEMPFAIL = 75


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "tmpfs"
    folder.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={TMPFS_MB}m", "tmpfs",
                           str(folder)], capture_output=True, text=True)
    if done.returncode != 0:
        if os.environ.get("CI") == "true":
            pytest.fail(f"cannot mount a tmpfs: {done.stderr.strip()}")
        pytest.skip(f"cannot mount a tmpfs (needs root): {done.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=False)
        if os.path.ismount(folder):
            subprocess.run(["umount", "-l", str(folder)], check=False)


def fill(folder: Path, leave_bytes: int = 0) -> Path:
    """Fill the folder's file system, leaving about `leave_bytes` free; the filler file."""
    filler = folder / "filler"
    with filler.open("wb") as fh:
        try:
            while os.statvfs(folder).f_bavail * os.statvfs(folder).f_frsize > leave_bytes:
                fh.write(b"\0" * min(1 << 20, max(4096, os.statvfs(folder).f_bavail
                                                  * os.statvfs(folder).f_frsize
                                                  - leave_bytes)))
                fh.flush()
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    return filler


@pytest.fixture(scope="module")
def population(tmp_path_factory: pytest.TempPathFactory) -> GenerateReport:
    return make_population(tmp_path_factory.mktemp("disk-data"), requests=160, seed=43)


@pytest.fixture(scope="module")
def master(population: GenerateReport, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_master(population, tmp_path_factory.mktemp("disk-master"))


@pytest.fixture
def world(tmp_path: Path, tmpfs: Path, master: Path, population: GenerateReport
          ) -> Iterator[FaultWorld]:
    world = FaultWorld(tmp_path / "home", f"sqlite:///{tmp_path / 'matchgate.sqlite'}",
                       master, population, env_extra={"MATCHGATE_TMP_DIR": str(tmpfs),
                                                  "MATCHGATE_TMP_MIN_FREE_MB": "4"})
    try:
        yield world
    finally:
        world.services.store.close()


def verify(world: FaultWorld, **env: str) -> subprocess.CompletedProcess[str]:
    data = world.population
    return subprocess.run(
        [sys.executable, "-m", "matchgate", "verify", str(data.requests_path),
         "-m", str(data.manifest_path), "-o", str(world.home / "responses.csv")],
        env=world.env(**env), capture_output=True, text=True, timeout=300)


def test_cli_stops_with_exit_75_when_the_disk_fills_and_resumes_once(
        world: FaultWorld, tmpfs: Path, tmp_path: Path) -> None:
    need = {"MATCHGATE_TMP_MIN_FREE_MB": "4"}
    # the folder fills up while the batch runs: after its first chunk is recorded
    data = world.population
    process = subprocess.Popen(
        [sys.executable, "-m", "matchgate", "verify", str(data.requests_path),
         "-m", str(data.manifest_path), "-o", str(world.home / "responses.csv")],
        env=world.env(**need, MATCHGATE_FAULT_AT="recorded:2", MATCHGATE_FAULT_ACTION="wait",
                      MATCHGATE_FAULT_DIR=str(tmp_path)),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    marker = tmp_path / "recorded.reached"
    deadline = time.monotonic() + 180
    while not marker.exists():
        assert process.poll() is None, process.communicate()[0]
        assert time.monotonic() < deadline
        time.sleep(0.05)
    filler = fill(tmpfs, leave_bytes=1 << 20)
    marker.unlink()
    output = process.communicate(timeout=180)[0]
    assert process.returncode == EX_TEMPFAIL, output
    assert str(tmpfs) in output and "MATCHGATE_TMP_DIR" in output, output
    assert "Traceback" not in output
    assert not (world.home / "responses.csv").exists()
    world.check()
    (batch_id,) = batch_ids(world)
    decided = len(world.store.decisions_for_batch(batch_id=batch_id))
    assert 0 < decided < data.requests
    assert world.store.get_batch(batch_id=batch_id)["status"] == "running"  # type: ignore[index]

    # still full: refused at once, nothing more recorded
    again = verify(world, **need)
    assert again.returncode == EX_TEMPFAIL, again.stdout + again.stderr
    assert len(world.store.decisions_for_batch(batch_id=batch_id)) == decided

    filler.unlink()  # space returns
    done = verify(world, **need)
    assert done.returncode == 0, done.stdout + done.stderr
    assert world.store.get_batch(batch_id=batch_id)["status"] == "done"  # type: ignore[index]
    assert world.check(batch_id).requests == data.requests
    answered = (world.home / "responses.csv").read_text(encoding="utf-8").splitlines()[1:]
    assert len(answered) == data.requests


def batch_ids(world: FaultWorld) -> list[str]:
    with world.store.reading() as conn:
        return [str(b) for b in conn.execute(select(BATCHES.c.batch_id)).scalars()]


def test_worker_meeting_a_full_disk_requeues_the_batch_and_resumes_once(
        world: FaultWorld, tmpfs: Path) -> None:
    batch = world.submit(slice(0, 60), "small.csv")
    filler = fill(tmpfs)  # completely full: the upload cannot even be written (ENOSPC)
    code = world.run_worker(MATCHGATE_TMP_MIN_FREE_MB="0")
    assert code == EX_TEMPFAIL, world.log_tail()
    job = world.job(batch)
    assert job["status"] == "queued" and str(tmpfs) in str(job["error"]), job
    assert "Traceback" not in world.log_tail()
    world.check()
    filler.unlink()
    assert world.run_worker() == 0, world.log_tail()
    world.assert_done_once(batch, 60)


def test_duckdb_spilling_into_a_full_folder_is_no_space(tmpfs: Path) -> None:
    fill(tmpfs)
    space = TempSpace(tmpfs)
    con = duckdb.connect(config={"temp_directory": str(tmpfs / "duckdb"),
                                 "memory_limit": "40MB", "threads": 1})
    try:
        with pytest.raises(NoSpace) as caught, space.translating():
            con.sql("SELECT * FROM range(20000000) t(i) ORDER BY hash(i)").fetchall()
    finally:
        con.close()
    assert str(tmpfs) in caught.value.message and caught.value.exit_code == EX_TEMPFAIL


def test_api_upload_into_a_full_folder_answers_507(tmp_path: Path, tmpfs: Path, master: Path,
                                                   population: GenerateReport) -> None:
    settings = Settings(home=tmp_path / "api", match_store=master, tmp_dir=tmpfs)
    world = FaultWorld(settings.home, settings.resolved_database_url(), master, population)
    try:
        token = add_user(world.store, name="req", role="requester",
                         agency="Immigration enforcement agency")
        use_tmp_dir(settings)  # what Services.open does in the server
        fill(tmpfs)
        with TestClient(create_app(settings, services=world.services)) as client:
            r = client.post("/api/v1/batches", headers={"Authorization": f"Bearer {token}"},
                            files={"file": ("requests.csv", population.requests_path.read_bytes(),
                                            "text/csv"),
                                   "manifest": ("manifest.toml",
                                                population.manifest_path.read_bytes(),
                                                "application/toml")})
        assert r.status_code == 507, r.text
        assert r.json()["code"] == "no_space" and str(tmpfs) not in r.text
    finally:
        tempfile.tempdir = None
        world.services.store.close()
