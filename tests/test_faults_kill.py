"""Real `matchgate worker` processes killed with SIGKILL in every stage of a batch; each time a
restarted worker finishes the batch, every request is answered exactly once, nothing is
disclosed twice, and the audit chain verifies (matchgate.audit.consistency after every kill).

The process stops itself with a real SIGKILL at a named point (matchgate.faultpoints:
MATCHGATE_FAULT_AT=record:2 is the second chunk's recording transaction, open), and the full run
also kills from outside at random moments. CI runs one kill per stage (and one after the batch
is done, before its job is) on SQLite and two on PostgreSQL; MATCHGATE_FAULTS_FULL=1 runs at
least 30 on each (MATCHGATE_FAULTS_SEED picks the points).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import postgres_schema_url
from faults_world import FaultWorld, make_master, make_population
from matchgate.faultpoints import POINTS
from matchgate.master.generate import GenerateReport

FULL = os.environ.get("MATCHGATE_FAULTS_FULL") == "1"
SEED = int(os.environ.get("MATCHGATE_FAULTS_SEED", "7"))
FULL_KILLS = 30
KILLED = -signal.SIGKILL
#: one kill per stage, in the order a batch reaches them: each run resumes what the last left
#: the points a run reaches once per chunk (the others, once per run at most)
PER_CHUNK = frozenset({"match", "decide", "record", "recorded"})
PER_STAGE = ("intake", "gate", "match:2", "decide:1", "record:2", "respond", "worker.finish")


@pytest.fixture(scope="module")
def population(tmp_path_factory: pytest.TempPathFactory) -> GenerateReport:
    return make_population(tmp_path_factory.mktemp("faults-data"))


@pytest.fixture(scope="module")
def master(population: GenerateReport, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_master(population, tmp_path_factory.mktemp("faults-master"))


@pytest.fixture(params=["sqlite", "postgresql"])
def world(request: pytest.FixtureRequest, tmp_path: Path, master: Path,
          population: GenerateReport) -> Iterator[FaultWorld]:
    if request.param == "sqlite":
        urls: Iterator[str] = iter([f"sqlite:///{tmp_path / 'matchgate.sqlite'}"])
    else:
        urls = postgres_schema_url()
    for url in urls:
        world = FaultWorld(tmp_path, url, master, population)
        try:
            yield world
        finally:
            world.services.store.close()


def kill_at(world: FaultWorld, batch_id: str, point: str) -> bool:
    """Run a worker that dies at `point`; True if it was killed there (False if the batch
    ended first). The store is consistent after either."""
    code = world.run_worker(fault=point)
    world.check(batch_id)
    if code == KILLED:
        return True
    assert code == 0, world.log_tail()
    return False


def kill_after(world: FaultWorld, batch_id: str, seconds: float) -> bool:
    """Start a worker and SIGKILL it from outside after `seconds` (if it is still running)."""
    time.sleep(1.1)
    process = world.start_worker("--once")
    try:
        process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGKILL)
    code = process.wait(timeout=60)
    world.check(batch_id)
    return code == KILLED


def finish(world: FaultWorld, batch_id: str, requests: int) -> None:
    assert world.run_worker() == 0, world.log_tail()
    world.assert_done_once(batch_id, requests)


def test_killed_in_every_stage_the_batch_completes_once(world: FaultWorld) -> None:
    if not FULL and world.database_url.startswith("postgresql"):
        stages: tuple[str, ...] = ("record:1", "respond")
    else:
        stages = PER_STAGE
    batch = world.submit()
    kills = [point for point in stages if kill_at(world, batch, point)]
    assert kills == list(stages), f"not killed at {set(stages) - set(kills)}"
    assert world.job(batch)["attempts"] == len(stages)
    finish(world, batch, world.population.requests)


@pytest.mark.skipif(not FULL, reason="MATCHGATE_FAULTS_FULL=1: the fast run kills at "
                                      "worker.finish in the stages' test")
def test_killed_after_the_batch_is_done_it_is_not_answered_again(world: FaultWorld) -> None:
    batch = world.submit(slice(0, 60), "small.csv")
    assert kill_at(world, batch, "respond.written")  # the answers written, not yet recorded
    assert kill_at(world, batch, "worker.finish")  # recorded; the job not yet marked done
    finish(world, batch, 60)


@pytest.mark.skipif(not FULL, reason="MATCHGATE_FAULTS_FULL=1 runs 30 kills at random points")
def test_thirty_kills_at_random_points(world: FaultWorld) -> None:
    rnd = random.Random(SEED)
    kills, batches, start = 0, 0, 0
    while kills < FULL_KILLS:
        size = rnd.randint(80, 240)
        rows = slice(start % 200, start % 200 + size)
        start += 37
        batch = world.submit(rows, f"batch-{batches}.csv")
        batches += 1
        answered = len(world.population.requests_path.read_text().splitlines()[1:][rows])
        for _ in range(rnd.randint(2, 5)):
            if rnd.random() < 0.25:
                killed = kill_after(world, batch, rnd.uniform(2.0, 10.0))
            else:
                point = rnd.choice(POINTS)
                nth = rnd.randint(1, 2) if point in PER_CHUNK else 1
                killed = kill_at(world, batch, f"{point}:{nth}")
            kills += killed
            if world.job(batch)["status"] == "done":
                break
        if world.job(batch)["status"] != "done":
            finish(world, batch, answered)
        world.assert_done_once(batch, answered)
    print(f"{kills} kills survived over {batches} batches ({world.database_url.split(':')[0]})")
