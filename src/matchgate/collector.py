"""Keeping CPython's cyclic garbage collector out of a batch's way.

A batch holds every request it read until it ends, and each chunk builds hundreds of thousands of
dicts, lists and events that reference counting frees when the chunk is recorded. The cyclic
collector counts those allocations and walks every live container again and again (a full
collection each time the live set grows by a quarter): seconds per hundred thousand requests
spent finding no garbage. These helpers take that work away without changing what is computed:

- `kept()` freezes what exists when the batch has been read (its rows, never garbage while it
  runs), so that later collections skip it, and unfreezes it when the batch ends;
- `paused()` holds collections off while a bounded stretch (one chunk's recording) builds and
  drops its objects; a cycle it leaves is collected once collections resume.

Both are process-wide (CPython has one collector); in a process running batches in threads, one
batch's exit re-enables or unfreezes for all, which costs only the saving, never correctness.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused() -> Iterator[None]:
    """No cyclic collection inside the block (restored as it was on leaving)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@contextmanager
def kept() -> Iterator[None]:
    """What is alive on entering the block is left out of cyclic collections until it ends."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
