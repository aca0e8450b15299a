"""`matchgate db upgrade` and `matchgate users add` through the real entry point."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from matchgate.store import Store
from matchgate.store.migrate import head_revision
from matchgate.users import authenticate, token_hash


def run(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MATCHGATE_HOME": str(home)}
    env.pop("MATCHGATE_DATABASE_URL", None)
    return subprocess.run([sys.executable, "-m", "matchgate", *args], env=env, text=True,
                          capture_output=True, timeout=120, check=False)


def test_db_upgrade_and_users_add_print_a_token_stored_only_as_a_hash(tmp_path: Path) -> None:
    done = run(tmp_path, "db", "upgrade")
    assert done.returncode == 0, done.stderr
    assert head_revision() in done.stdout
    added = run(tmp_path, "users", "add", "ana", "--role", "requester", "--agency", "Agency A")
    assert added.returncode == 0, added.stderr
    token = added.stdout.strip()
    assert token.startswith("mg_") and len(token) > 40
    with Store.open(f"sqlite:///{tmp_path / 'matchgate.sqlite'}") as store:
        user = authenticate(store, token)
        assert (user.name, user.role, user.agency) == ("ana", "requester", "Agency A")
        raw = (tmp_path / "matchgate.sqlite").read_bytes()
    assert token.encode() not in raw and token_hash(token).encode() in raw
    again = run(tmp_path, "users", "add", "ana", "--role", "reviewer")
    assert again.returncode != 0 and "already exists" in again.stderr
    missing = run(tmp_path, "users", "add", "bo", "--role", "requester")
    assert missing.returncode == 2 and "--agency" in missing.stderr
    assert "Traceback" not in missing.stderr + again.stderr
