"""Folders derived from the master store (the lookup index, the Spark export) are built by one
process at a time: another that asks for the same folder waits, then uses it; a failed build
leaves the old folder serving."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from filelock import FileLock

from matchgate.master.generate import generate
from matchgate.master.load import load_master
from matchgate.master.store import open_master
from matchgate.match.builtonce import build_once, lock_path, remove_built
from matchgate.match.engine import load_model
from matchgate.match.keyindex import build_index, index_current, index_dir_for
from matchgate.match.train import DEFAULT_MODEL_PATH


def _write(folder: Path, text: str) -> None:
    (folder / "part.txt").write_text(text)


def test_a_ready_folder_is_not_built_again(tmp_path: Path) -> None:
    target = tmp_path / "derived"
    ready = lambda: (target / "part.txt").exists()  # noqa: E731
    assert build_once(target, ready, lambda tmp: _write(tmp, "one"))
    assert not build_once(target, ready, lambda tmp: _write(tmp, "two"))
    assert (target / "part.txt").read_text() == "one"


def test_a_failed_build_leaves_the_old_folder_and_no_half_built_one(tmp_path: Path) -> None:
    target = tmp_path / "derived"
    build_once(target, lambda: False, lambda tmp: _write(tmp, "old"))

    def fails(tmp: Path) -> None:
        _write(tmp, "half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        build_once(target, lambda: False, fails)
    assert (target / "part.txt").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["derived", "derived.lock"]


def test_the_folder_of_a_builder_that_died_is_cleared_first(tmp_path: Path) -> None:
    target = tmp_path / "derived"
    dead = tmp_path / "derived.building"
    dead.mkdir()
    (dead / "stale.txt").write_text("from a killed process")
    build_once(target, lambda: False, lambda tmp: _write(tmp, "new"))
    assert sorted(p.name for p in target.iterdir()) == ["part.txt"]
    assert not dead.exists()


WAITER = textwrap.dedent("""
    import sys
    from pathlib import Path
    from matchgate.match.engine import load_model
    from matchgate.match.keyindex import open_index
    from matchgate.match.train import DEFAULT_MODEL_PATH
    index = open_index(Path(sys.argv[1]), sys.argv[2], load_model(DEFAULT_MODEL_PATH))
    print((index.directory / "rules.json").stat().st_ino)
""")


def test_a_second_process_waits_for_the_index_being_built_and_uses_it(tmp_path: Path) -> None:
    report = generate(tmp_path / "g", taxpayers=300, requests=0, seed=9)
    store = tmp_path / "store.duckdb"
    load_master(report.master_path, store, workers=1)
    with open_master(store) as handle:
        version = handle.meta().master_version
    model = load_model(DEFAULT_MODEL_PATH)
    folder = index_dir_for(store, version)
    remove_built(folder)
    with FileLock(lock_path(folder)):  # this process is "building" the index
        waiter = subprocess.Popen([sys.executable, "-c", WAITER, str(store), version],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(3)
        assert waiter.poll() is None, waiter.communicate()
        assert not index_current(folder, model)
        folder.mkdir()
        build_index(store, model, folder)
        built = (folder / "rules.json").stat().st_ino
    out, err = waiter.communicate(timeout=120)
    assert waiter.returncode == 0, err
    assert int(out.strip()) == built  # the waiter used this index, it did not build another
