"""The garbage collector helpers of a batch: collections come back as they were, even on error."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from matchgate import collector


@pytest.fixture(autouse=True)
def collector_restored() -> Iterator[None]:
    enabled = gc.isenabled()
    yield
    gc.unfreeze()
    (gc.enable if enabled else gc.disable)()


def test_paused_holds_collections_off_and_restores_them() -> None:
    gc.enable()
    with pytest.raises(RuntimeError), collector.paused():
        assert not gc.isenabled()
        raise RuntimeError("a chunk fails")
    assert gc.isenabled()
    gc.disable()  # a caller that had them off keeps them off
    with collector.paused():
        assert not gc.isenabled()
    assert not gc.isenabled()


def test_kept_freezes_what_exists_until_the_block_ends() -> None:
    gc.unfreeze()
    rows = [{"request_id": f"R{n}"} for n in range(100)]
    with pytest.raises(RuntimeError), collector.kept():
        assert gc.get_freeze_count() > len(rows)
        raise RuntimeError("the batch fails")
    assert gc.get_freeze_count() == 0
