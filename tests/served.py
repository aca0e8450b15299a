"""A real `matchgate serve` in a subprocess, for the tests that need the server as deployed."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def matchgate_env(**settings: str) -> dict[str, str]:
    """The environment of a matchgate subprocess: this checkout's code, MATCHGATE_* settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MATCHGATE_")}
    src = str(Path(__file__).resolve().parents[1] / "src")
    env["PYTHONPATH"] = os.pathsep.join([src, *filter(None, [env.get("PYTHONPATH")])])
    env.update({f"MATCHGATE_{k.upper()}": v for k, v in settings.items()})
    return env


@contextmanager
def served(env: dict[str, str], stderr: Path, *args: str, scheme: str = "http",
           verify: object = False) -> Iterator[str]:
    """Start `matchgate serve` on a free port; yield its base URL once it answers; stop it."""
    port = free_port()
    with stderr.open("wb") as err:
        proc = subprocess.Popen([sys.executable, "-m", "matchgate", "serve", "--port", str(port),
                                 *args], env=env, stdout=err, stderr=err)
        base = f"{scheme}://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                if proc.poll() is not None:
                    raise AssertionError(f"serve exited {proc.returncode}: "
                                         f"{stderr.read_text(errors='replace')[-2000:]}")
                try:
                    httpx.get(f"{base}/openapi.json", verify=verify, timeout=2)  # type: ignore[arg-type]
                    break
                except httpx.TransportError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.2)
            yield base
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
