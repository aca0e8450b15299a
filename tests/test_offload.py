"""A batch finds its candidates in a child process (match/offload.py): the same decisions as in a
thread, a real process, gone with its parent."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from matchgate import pipeline
from matchgate.examples import example_path
from matchgate.intake import read_requests
from matchgate.master.generate import GenerateReport, generate
from matchgate.master.load import load_master
from matchgate.match.indexed import IndexedMatchEngine
from matchgate.match.offload import Finder
from matchgate.pipeline import found_for_chunk, standardize_requests
from matchgate.service import Services
from matchgate.settings import Settings


@pytest.fixture(scope="module")
def population(tmp_path_factory: pytest.TempPathFactory) -> tuple[GenerateReport, Path]:
    tmp = tmp_path_factory.mktemp("offload")
    report = generate(tmp / "g", taxpayers=3000, requests=500, seed=23)
    store = tmp / "master.duckdb"
    load_master(report.master_path, store, workers=1)
    return report, store


def _decisions(report: GenerateReport, store: Path, home: Path, chunk: int,
               offload_from: int, monkeypatch: pytest.MonkeyPatch) -> list[tuple]:
    monkeypatch.setattr(pipeline, "OFFLOAD_FROM_CHUNKS", offload_from)
    settings = Settings(home=home, match_store=store, batch_chunk=chunk)
    services = Services.open(settings)
    services.load_agreement(example_path("agreement.toml"))
    result = services.verify_batch(requests_path=report.requests_path,
                                   manifest_path=report.manifest_path,
                                   responses_path=home / "responses.csv",
                                   decisions_path=None)
    rows = services.store.decisions_for_batch(batch_id=result.batch_id, with_evidence=True)
    return sorted((r["request_id"], r["code"], r["reason"], r["matched_tin"],
                   r["match_probability"], r["runner_up_probability"], str(r["evidence"]))
                  for r in rows)


def test_a_batch_found_in_a_child_process_decides_as_in_a_thread(
        population: tuple[GenerateReport, Path], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    report, store = population
    in_thread = _decisions(report, store, tmp_path / "a", 120, 10**9, monkeypatch)
    in_child = _decisions(report, store, tmp_path / "b", 120, 2, monkeypatch)
    assert len(in_child) == 500
    assert sum(1 for d in in_child if d[3]) > 50  # matches among them
    assert in_child == in_thread


def test_the_finder_runs_the_engine_in_a_child_process(
        population: tuple[GenerateReport, Path]) -> None:
    report, store = population
    engine = IndexedMatchEngine(store)
    table = standardize_requests(read_requests(report.requests_path).requests[:200])
    me = psutil.Process()
    with Finder(engine, in_process=True) as finder:
        assert finder.in_child
        got = finder.submit(found_for_chunk, table, 0.5).result()
        workers = [c for c in me.children() if "spawn_main" in " ".join(c.cmdline())]
        assert len(workers) == 1 and workers[0].pid != me.pid
    alone = found_for_chunk(engine, table, 0.5)
    assert got[1].equals(alone[1]) and got[2] == alone[2]
    with Finder(engine, in_process=False) as finder:
        assert not finder.in_child
    assert not [c for c in me.children() if c.is_running() and c.status() != "zombie"
                and "spawn_main" in " ".join(c.cmdline())]


def test_the_child_opens_the_engine_before_any_work_is_submitted(
        population: tuple[GenerateReport, Path]) -> None:
    """The batch creates its finder before it screens: the child must be started and busy
    opening the engine by then, not at the first chunk."""
    _, store = population
    me = psutil.Process()
    with Finder(IndexedMatchEngine(store), in_process=True):
        deadline = time.monotonic() + 60
        opened = False
        while not opened and time.monotonic() < deadline:
            workers = [c for c in me.children() if "spawn_main" in " ".join(c.cmdline())]
            # the engine's index maps its files: a child that opened it holds them open
            opened = any(f.path.startswith(str(store)) for w in workers
                         for f in w.open_files()) or any(
                m.path.startswith(str(store)) for w in workers for m in w.memory_maps())
            time.sleep(0.1)
        assert opened


def test_an_engine_without_a_recipe_stays_in_a_thread(
        population: tuple[GenerateReport, Path]) -> None:
    from matchgate.match.engine import DuckDBMatchEngine

    _, store = population
    assert not Finder(DuckDBMatchEngine(store), in_process=True).in_child


CHILD_OUTLIVES = """
import os, signal, sys
from pathlib import Path
from matchgate.match.indexed import IndexedMatchEngine
from matchgate.match.offload import Finder
import psutil

finder = Finder(IndexedMatchEngine(Path(sys.argv[1])), in_process=True)
finder.submit(getattr, "master_version").result()
print(next(c.pid for c in psutil.Process().children()
           if "spawn_main" in " ".join(c.cmdline())), flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_the_child_stops_when_its_parent_is_killed(
        population: tuple[GenerateReport, Path]) -> None:
    _, store = population
    out = subprocess.run([sys.executable, "-c", CHILD_OUTLIVES, str(store)],
                         capture_output=True, text=True, timeout=120)
    child = int(out.stdout.split()[0])
    deadline = time.monotonic() + 15
    while psutil.pid_exists(child) and time.monotonic() < deadline:
        try:
            if psutil.Process(child).status() == psutil.STATUS_ZOMBIE:
                break
        except psutil.NoSuchProcess:
            break
        time.sleep(0.2)
    alive = psutil.pid_exists(child) and psutil.Process(child).status() != psutil.STATUS_ZOMBIE
    assert not alive


def test_an_error_raised_in_the_child_keeps_its_problems_and_hint() -> None:
    import pickle

    from matchgate.api.ratelimit import RateLimited
    from matchgate.errors import Problem, StoreError

    error = StoreError("the store is gone", problems=[Problem("x", row=3, field="tin")],
                       hint="Run: matchgate master load")
    back = pickle.loads(pickle.dumps(error))
    assert type(back) is StoreError and str(back) == str(error)
    assert back.problems == error.problems and back.hint == error.hint
    limited = pickle.loads(pickle.dumps(RateLimited("slow down", retry_after=7)))
    assert limited.retry_after == 7 and limited.message == "slow down"


def test_a_child_that_cannot_open_its_engine_is_a_clear_error() -> None:
    import functools
    from types import SimpleNamespace

    from matchgate.errors import StoreError

    broken = SimpleNamespace(reopen=functools.partial(int, "not an engine"))
    with Finder(broken, in_process=True) as finder:
        assert finder.in_child
        with pytest.raises(StoreError, match="stopped before answering") as caught:
            finder.result(finder.submit(getattr, "master_version"))
    assert "resumes after its last recorded chunk" in str(caught.value)
    # the child starts at once, so it can fail before the first chunk is even submitted
    with Finder(broken, in_process=True) as finder:
        deadline = time.monotonic() + 60
        while not finder._pool._broken and time.monotonic() < deadline:  # type: ignore[attr-defined]
            time.sleep(0.05)
        with pytest.raises(StoreError, match="stopped before answering"):
            finder.result(finder.submit(getattr, "master_version"))


def _copy_rows(source: Path, target: Path, picks: list[tuple[int, str | None]],
               broken_at: int | None = None) -> None:
    """A request file of the source's rows at the given (0-based, taken modulo the source's
    length) positions, each under its own request_id or the one given (a copy of a request
    under a new id: a duplicate); with `broken_at`, a quote that is never closed on that row."""
    import csv

    with source.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        fields = list(reader.fieldnames or [])
        rows = list(reader)
    with target.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        for n, (at, new_id) in enumerate(picks):
            if n == broken_at:
                fh.write('X1,"never closed\n')
            writer.writerow({**rows[at % len(rows)], **({"request_id": new_id} if new_id else {})})


def _batch_after_a_prior_one(report: GenerateReport, store: Path, home: Path, chunk: int,
                             monkeypatch: pytest.MonkeyPatch) -> tuple[list[tuple], Path]:
    """Batch A (two requests), then batch B: 60 requests, among them the two of A (one in B's
    first chunk, one later) and copies of B's own requests under new ids (two inside the
    chunks found before the batch-level checks run, one after them)."""
    monkeypatch.setattr(pipeline, "OFFLOAD_FROM_CHUNKS", 2)
    home.mkdir()
    _copy_rows(report.requests_path, home / "a.csv", [(0, None), (49, None)])
    picks: list[tuple[int, str | None]] = [(n, None) for n in range(60)]
    picks[7:7] = [(2, "COPY-OF-3")]
    picks[12:12] = [(5, "COPY-OF-6")]
    picks[55:55] = [(10, "COPY-OF-11")]
    _copy_rows(report.requests_path, home / "b.csv", picks)
    services = Services.open(Settings(home=home, match_store=store, batch_chunk=chunk))
    services.load_agreement(example_path("agreement.toml"))
    for name in ("a", "b"):
        result = services.verify_batch(requests_path=home / f"{name}.csv",
                                       manifest_path=report.manifest_path,
                                       responses_path=home / f"{name}-responses.csv",
                                       decisions_path=None)
    rows = services.store.decisions_for_batch(batch_id=result.batch_id, with_evidence=True)
    assert services.verify_audit().ok
    return sorted((r["request_id"], r["code"], r["reason"], r["matched_tin"],
                   r["match_probability"], r["runner_up_probability"], str(r["evidence"]))
                  for r in rows), home / "b-responses.csv"


def test_requests_the_batch_checks_reject_in_the_first_chunks_are_answered_once(
        population: tuple[GenerateReport, Path], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The first chunks are found before the batch-level checks (duplicates, limits) have run
    (pipeline.BatchRun._work): a request they reject there gets its rejection and nothing
    else, and every other request the same decision as when the batch is one chunk."""
    report, store = population
    small, responses = _batch_after_a_prior_one(report, store, tmp_path / "small", 8,
                                                monkeypatch)
    whole, _ = _batch_after_a_prior_one(report, store, tmp_path / "whole", 10_000, monkeypatch)
    assert small == whole
    by_id = {d[0]: d for d in small}
    assert len(by_id) == len(small) == 63
    for copy in ("COPY-OF-3", "COPY-OF-6", "COPY-OF-11"):
        assert by_id[copy][1:3] == ("DUPLICATE", "duplicate_in_batch")
        assert by_id[copy][3] is None
    import csv

    with report.requests_path.open(newline="", encoding="utf-8") as fh:
        ids = [r["request_id"] for r in csv.DictReader(fh)]
    for earlier in (ids[0], ids[49]):
        assert by_id[earlier][1:3] == ("DUPLICATE", "duplicate_earlier")
    assert sum(1 for d in small if d[3]) > 5  # matches among the rest
    with responses.open(newline="", encoding="utf-8") as fh:
        answered = [r["request_id"] for r in csv.DictReader(fh)]
    assert sorted(answered) == sorted(by_id)


def _big_file(source: Path, target: Path, rows: int, broken_at: int | None = None) -> None:
    """A request file of `rows` requests, the source's repeated under new ids (most of them
    duplicates in the batch: the pipeline still reads and screens every one)."""
    _copy_rows(source, target, [(n, f"BIG-{n}") for n in range(rows)], broken_at)


def test_a_large_file_is_screened_as_it_is_read_and_a_bad_one_leaves_nothing(
        population: tuple[GenerateReport, Path], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """From screening.PARALLEL_FROM requests on, the workers screen parts of the file while it
    is still being read (screening.Screener): the same answers as screening it once read. A
    file refused half-way (an unclosed quote) is a clear InputError, stores nothing and leaves
    no worker process behind."""
    import psutil

    from matchgate import screening
    from matchgate.errors import InputError

    report, store = population
    rows = screening.PARALLEL_FROM + 500
    _big_file(report.requests_path, tmp_path / "big.csv", rows)
    answers = {}
    for name, parallel_from in (("streamed", screening.PARALLEL_FROM), ("after", 10**9)):
        monkeypatch.setattr(screening, "PARALLEL_FROM", parallel_from)
        home = tmp_path / name
        services = Services.open(Settings(home=home, match_store=store))
        services.load_agreement(example_path("agreement.toml"))
        result = services.verify_batch(requests_path=tmp_path / "big.csv",
                                       manifest_path=report.manifest_path,
                                       responses_path=home / "responses.csv",
                                       decisions_path=None)
        assert result.total == rows
        answers[name] = (home / "responses.csv").read_bytes()
    assert answers["streamed"] == answers["after"]

    monkeypatch.setattr(screening, "PARALLEL_FROM", 1_000)
    _big_file(report.requests_path, tmp_path / "broken.csv", 5_000, broken_at=4_000)
    me = psutil.Process()
    before = {p.pid for p in me.children(recursive=True)}
    home = tmp_path / "broken"
    services = Services.open(Settings(home=home, match_store=store))
    services.load_agreement(example_path("agreement.toml"))
    with pytest.raises(InputError, match="quote"):
        services.verify_batch(requests_path=tmp_path / "broken.csv",
                              manifest_path=report.manifest_path,
                              responses_path=home / "responses.csv", decisions_path=None)
    assert not (home / "responses.csv").exists()
    with services.store.reading() as conn:
        from sqlalchemy import func, select

        from matchgate.store.models import BATCHES
        assert conn.execute(select(func.count()).select_from(BATCHES)).scalar_one() == 0
    left = {p.pid for p in me.children(recursive=True)
            if p.is_running() and p.status() != psutil.STATUS_ZOMBIE} - before
    assert not left
