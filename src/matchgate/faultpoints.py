"""Named points where a test stops a process for real, to prove that a crash there loses nothing
and discloses nothing twice (tests/test_faults_*.py). Inert unless MATCHGATE_FAULT_AT is set.

    MATCHGATE_FAULT_AT=record:2            SIGKILL the process the 2nd time it reaches "record"
    MATCHGATE_FAULT_AT=record:2 MATCHGATE_FAULT_ACTION=wait MATCHGATE_FAULT_DIR=/tmp/x
                                           create /tmp/x/record.reached there, and wait until
                                           the test deletes it (to restart a database meanwhile)

The points, in the order a batch reaches them: intake.read, intake (inside the transaction that
stores the batch), gate (inside the rejections' transaction), match (candidates found), decide,
record (inside a chunk's transaction), recorded (after its commit), respond.written (response
file written), respond (inside the transaction that marks the batch done), worker.finish.
"""

from __future__ import annotations

import os
import signal
import time
from collections import Counter
from pathlib import Path

ENV_POINT = "MATCHGATE_FAULT_AT"
ENV_ACTION = "MATCHGATE_FAULT_ACTION"
ENV_DIR = "MATCHGATE_FAULT_DIR"
POINTS: tuple[str, ...] = ("intake.read", "intake", "gate", "match", "decide", "record",
                           "recorded", "respond.written", "respond", "worker.finish")
WAIT_LIMIT_SECONDS = 600.0

_hits: Counter[str] = Counter()


def reached(point: str) -> None:
    """Mark that the process reached `point`; stop it there if MATCHGATE_FAULT_AT says so."""
    spec = os.environ.get(ENV_POINT)
    if not spec:
        return
    name, _, nth = spec.partition(":")
    if name != point:
        return
    _hits[point] += 1
    if _hits[point] != int(nth or 1):
        return
    if os.environ.get(ENV_ACTION, "kill") == "wait":
        marker = Path(os.environ.get(ENV_DIR, ".")) / f"{point}.reached"
        marker.write_text(str(os.getpid()), encoding="ascii")
        deadline = time.monotonic() + WAIT_LIMIT_SECONDS
        while marker.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        return
    os.kill(os.getpid(), signal.SIGKILL)
