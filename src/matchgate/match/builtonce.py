"""A derived folder of the master store (the lookup index, the Spark export) built once, however
many processes ask for it at the same time.

The folder is built beside its place and renamed into it, so a reader never sees half of it.
Builders take a lock file next to the folder (`<folder>.lock`, held by the operating system: a
builder that dies releases it): a second process that finds the folder missing waits for the
first, then looks again and uses what the first built instead of building it a second time (two
builds at once used to share, and delete, each other's `.building` folder)."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

log = logging.getLogger(__name__)

#: seconds a builder waits for the lock before saying so in the log (then it waits on)
PATIENCE = 5.0


def lock_path(target: Path) -> Path:
    return target.with_name(target.name + ".lock")


@contextmanager
def _locked(target: Path) -> Iterator[None]:
    target.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(lock_path(target))
    try:
        lock.acquire(timeout=PATIENCE)
    except Timeout:
        log.warning("waiting for another process that is building %s", target)
        lock.acquire()
    try:
        yield
    finally:
        lock.release()


def remove_built(target: Path) -> None:
    """Remove the folder (waiting for a build of it under way: that build would otherwise put
    back what this removes)."""
    with _locked(target):
        shutil.rmtree(target, ignore_errors=True)


def build_once(target: Path, ready: Callable[[], bool], build: Callable[[Path], None]) -> bool:
    """Make `target` with `build(folder)` unless `ready()` says it is there, one process at a
    time; True when this call built it. `build` writes into an empty sibling folder, which
    replaces the target once complete (a failed build leaves the target as it was)."""
    if ready():
        return False
    with _locked(target):
        if ready():  # built by the process this one waited for
            return False
        tmp = target.with_name(target.name + ".building")
        shutil.rmtree(tmp, ignore_errors=True)  # left by a builder that died
        tmp.mkdir()
        try:
            build(tmp)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        shutil.rmtree(target, ignore_errors=True)
        tmp.rename(target)
        return True
