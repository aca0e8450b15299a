"""The README's two commands, run the way a newcomer would: from a fresh clone, fresh venv."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def readme_commands() -> list[str]:
    """The indented commands on the README's first screen (before the first section heading,
    within the first 25 lines)."""
    head = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()[:25]
    first_screen = head[: next((i for i, line in enumerate(head) if line.startswith("## ")),
                               len(head))]
    return [line.strip() for line in first_screen if re.match(r"^ {4}\S", line)]


def test_first_screen_gives_demo_and_test_commands() -> None:
    commands = readme_commands()
    assert commands == ["make demo", "make test"]


@pytest.mark.slow
def test_commands_work_from_a_fresh_clone(tmp_path: Path) -> None:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "MATCHGATE"))}
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep)
                                  if ".venv" not in p)
    demo = subprocess.run(["make", "demo"], cwd=clone, env=env, capture_output=True,
                          text=True, timeout=900)
    assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-3000:]
    assert "precision" in demo.stdout.lower()
    assert "chain intact" in demo.stdout.lower()
    # The test command's set-up path: the same environment, lint, and a suite that collects.
    lint = subprocess.run(["make", "lint"], cwd=clone, env=env, capture_output=True, text=True,
                          timeout=900)
    assert lint.returncode == 0, lint.stdout[-3000:] + lint.stderr[-3000:]
    collect = subprocess.run([str(clone / ".venv/bin/pytest"), "--collect-only", "-q"],
                             cwd=clone, env=env, capture_output=True, text=True, timeout=300)
    assert collect.returncode == 0, collect.stdout[-3000:]
    assert re.search(r"\d+ tests? collected", collect.stdout)
