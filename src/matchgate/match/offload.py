"""Finding a batch's candidates beside its recording: in a child process when the engine can be
opened there, in a thread otherwise.

A batch finds the candidates of its next chunk (DuckDB, numpy, Arrow) while the previous chunk
is decided and recorded (Python, the store). In a thread of the same process the two contend
for the interpreter lock: at 10 million taxpayers and 1.28 million requests the process used
1.1 of the machine's 2 cores. An engine that says how to open it again (`reopen`, a picklable
recipe: the indexed engine, whose index is memory-mapped, so a child shares its pages) is
opened once in a child process, which then finds every chunk; an engine without one (Splink's,
on DuckDB or Spark) keeps to a thread.

The child writes nothing: it returns each chunk's candidates, and the batch records them. A
child whose parent is gone stops (it never outlives a killed batch).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import get_context
from types import TracebackType
from typing import Any, TypeVar

from matchgate.errors import StoreError

Result = TypeVar("Result")

# How often a child looks whether its parent is still there (seconds).
PARENT_CHECK_SECONDS = 1.0

_engine: Any = None


def _open(recipe: Callable[[], Any], parent: int) -> None:
    """The child's initializer: open the engine, and stop when the parent is gone."""
    global _engine
    _engine = recipe()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_CHECK_SECONDS)
        os._exit(0)

    threading.Thread(target=watch, name="matchgate-parent-watch", daemon=True).start()


def _stopped() -> StoreError:
    return StoreError(
        "the process that finds candidates stopped before answering",
        hint="Run the same command again: the batch resumes after its last recorded chunk. If "
             "it stops again, look for a lack of memory (dmesg) or run with "
             "MATCHGATE_ENGINE=duckdb.")


def _started() -> None:
    """Nothing: submitted first, so that the child starts (and opens the engine) at once."""


def _call(work: Callable[..., Result], args: tuple[Any, ...]) -> Result:
    return work(_engine, *args)


class Finder:
    """Runs `work(engine, *args)` one call at a time, beside the caller: in a child process when
    the engine has a `reopen` recipe and `in_process` is asked for, in a thread otherwise. The
    child starts at once and opens the engine while the caller goes on (a few seconds at ten
    million taxpayers: reading and screening a batch hides them)."""

    def __init__(self, engine: Any, *, in_process: bool) -> None:
        recipe = getattr(engine, "reopen", None) if in_process else None
        self.engine = engine
        self.in_child = recipe is not None
        self._pool: Executor
        if recipe is not None:
            self._pool = ProcessPoolExecutor(
                max_workers=1, mp_context=get_context("spawn"), initializer=_open,
                initargs=(recipe, os.getpid()))
            self._pool.submit(_started)
        else:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="matchgate-find")

    def submit(self, work: Callable[..., Result], *args: Any) -> Future[Result]:
        """Start the call; a child that died already (its engine unable to open while the
        caller was busy) is the same clear error as in `result`."""
        if self.in_child:
            try:
                return self._pool.submit(_call, work, args)
            except BrokenProcessPool as exc:
                raise _stopped() from exc
        return self._pool.submit(work, self.engine, *args)

    def result(self, future: Future[Result]) -> Result:
        """The call's result; a child that died (killed, out of memory, its engine unable to
        open) is an error that says so and what to do."""
        try:
            return future.result()
        except BrokenProcessPool as exc:
            raise _stopped() from exc

    def __enter__(self) -> Finder:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
