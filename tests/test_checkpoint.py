"""A batch killed for real (SIGKILL) in the middle resumes where it stopped: every request is
answered exactly once and the audit chain verifies."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import matchgate
from matchgate.examples import example_path
from matchgate.master.generate import generate
from matchgate.master.load import load_master
from matchgate.service import Services
from matchgate.settings import Settings

SRC = str(Path(matchgate.__file__).resolve().parents[1])
CHUNK = 150


def _decided(db: Path) -> int:
    try:
        with sqlite3.connect(db, timeout=1) as con:
            return int(con.execute("SELECT count(*) FROM decisions").fetchone()[0])
    except sqlite3.Error:
        return 0


def _verify(home: Path, data: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": SRC, "MATCHGATE_HOME": str(home),
           "MATCHGATE_BATCH_CHUNK": str(CHUNK)}
    return subprocess.Popen([sys.executable, "-m", "matchgate", "verify",
                             str(data / "requests.csv"), "-m", str(data / "manifest.toml"),
                             "-o", str(home / "responses.csv")], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def test_killed_batch_resumes_and_answers_each_request_once(tmp_path: Path) -> None:
    data, home = tmp_path / "data", tmp_path / "home"
    report = generate(data, taxpayers=1500, requests=900, seed=31)
    settings = Settings(home=home)
    load_master(report.master_path, settings.resolved_match_store(), workers=1)
    services = Services.open(settings)
    services.load_agreement(example_path("agreement.toml"))
    db = home / "matchgate.sqlite"

    first = _verify(home, data)
    deadline = time.monotonic() + 120
    while first.poll() is None and time.monotonic() < deadline:
        # the gate's rejections are recorded at once, then one chunk of CHUNK at a time
        if _decided(db) >= report.invalid + 2 * CHUNK:
            first.send_signal(signal.SIGKILL)
            break
        time.sleep(0.02)
    assert first.wait(timeout=30) == -signal.SIGKILL, "the batch ended before it was killed"
    partial = _decided(db)
    assert report.invalid + 2 * CHUNK <= partial < report.requests

    second = _verify(home, data)
    output = second.communicate(timeout=180)[0].decode()
    assert second.returncode == 0, output

    with sqlite3.connect(db) as con:
        decided = [r[0] for r in con.execute("SELECT request_id FROM decisions")]
        events = con.execute("SELECT event_type, request_id FROM audit_events").fetchall()
        batch_events = {kind: [json.loads(d) for (d,) in con.execute(
            "SELECT details FROM audit_events WHERE event_type = ? ORDER BY seq", (kind,))]
            for kind in ("batch.received", "batch.completed")}
        in_rows = [r[0] for r in con.execute("SELECT request_id FROM requests "
                                             "ORDER BY row_number")]
    assert len(decided) == len(set(decided)) == report.requests
    with (home / "responses.csv").open(newline="", encoding="utf-8") as fh:
        answered = Counter(row["request_id"] for row in csv.DictReader(fh))
    assert set(answered) == set(decided) and set(answered.values()) == {1}
    # received once, as every request stored; answered once, all of them
    (received,) = batch_events["batch.received"]
    assert set(in_rows) == set(decided)
    assert received["requests_sha256"] == hashlib.sha256(
        "".join(f"{json.dumps(rid)}\n" for rid in in_rows).encode()).hexdigest()
    outcome = {rid for kind, rid in events if kind in ("request.decided", "request.gated")}
    assert outcome == set(decided)
    (completed,) = batch_events["batch.completed"]
    assert completed["responses"] == report.requests
    assert completed["responses_sha256"] == hashlib.sha256(
        (home / "responses.csv").read_bytes()).hexdigest()
    chain = Services.open(settings).verify_audit()
    assert chain.ok, chain.problem
