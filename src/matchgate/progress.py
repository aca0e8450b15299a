"""Progress reporting for long work: a Rich display for people, a silent one for tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Protocol

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)


class Stage(Protocol):
    def advance(self, amount: int = 1) -> None: ...


class Reporter(Protocol):
    def stage(self, name: str, total: int | None = None) -> AbstractContextManager[Stage]: ...


class _NullStage:
    def advance(self, amount: int = 1) -> None:
        return None


class NullReporter:
    @contextmanager
    def stage(self, name: str, total: int | None = None) -> Iterator[Stage]:
        yield _NullStage()


class _RichStage:
    def __init__(self, progress: Progress, task: object) -> None:
        self._progress = progress
        self._task = task

    def advance(self, amount: int = 1) -> None:
        self._progress.advance(self._task, amount)  # type: ignore[arg-type]


class RichReporter:
    """One bar per stage, each with its rate and the time left."""

    def __init__(self, console: Console | None = None) -> None:
        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("[bold]{task.description:<22}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=False,
        )

    def __enter__(self) -> RichReporter:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    @contextmanager
    def stage(self, name: str, total: int | None = None) -> Iterator[Stage]:
        task = self.progress.add_task(name, total=total if total is not None else 1)
        try:
            yield _RichStage(self.progress, task)
        finally:
            self.progress.update(task, completed=total if total is not None else 1)
