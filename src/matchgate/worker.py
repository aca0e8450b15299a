"""The batch worker: claims queued batches from the store and runs each through the pipeline.

A claim is a lease, renewed by a heartbeat while the batch runs. A worker that dies stops
renewing; once its lease lapses another worker claims the batch and runs it again, and the
pipeline resumes where the decisions stop, so no request is answered twice.
"""

from __future__ import annotations

import logging
import os
import socket
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from matchgate.agreement import Agreement
from matchgate.errors import MatchgateError, StoreError
from matchgate.intake import Manifest
from matchgate.pipeline import Actor, BatchRun
from matchgate.service import Services
from matchgate.store import jobs

log = logging.getLogger("matchgate.worker")


def worker_name() -> str:
    return f"worker:{socket.gethostname()}:{os.getpid()}"


class Worker:
    def __init__(self, services: Services, *, name: str | None = None) -> None:
        self.services = services
        self.name = name or worker_name()
        self.lease = timedelta(seconds=services.settings.worker_lease_seconds)

    def run_once(self, *, batch_id: str | None = None) -> str | None:
        """Claim one batch (the oldest, or the one named) and run it; the batch id or None."""
        store = self.services.store
        claimed = jobs.claim_job(store, worker=self.name, lease=self.lease, batch_id=batch_id)
        if claimed is None:
            return None
        log.info("claimed batch %s", claimed)
        try:
            with self._heartbeat(claimed):
                self.process(claimed)
        except MatchgateError as exc:
            log.warning("batch %s failed: %s", claimed, exc.code)
            jobs.finish_job(store, batch_id=claimed, worker=self.name, error=exc.message)
            return claimed
        jobs.finish_job(store, batch_id=claimed, worker=self.name)
        log.info("batch %s done", claimed)
        return claimed

    def run_forever(self, stop: threading.Event) -> None:
        while not stop.is_set():
            if self.run_once() is None:
                stop.wait(self.services.settings.worker_poll_seconds)

    def process(self, batch_id: str) -> None:
        """Run the batch through the pipeline (resuming it if it ran before)."""
        store = self.services.store
        job = jobs.get_job(store, batch_id=batch_id)
        assert job is not None
        batch = store.get_batch(batch_id=batch_id)
        if batch is not None and batch["status"] == "done":
            return
        text = store.agreement_text(agreement_id=job["agreement_id"],
                                    version=job["agreement_version"])
        if text is None:
            raise StoreError(f"agreement {job['agreement_id']!r} version "
                             f"{job['agreement_version']} is missing from the store")
        agreement = Agreement.from_toml_text(text, source=f"agreement {job['agreement_id']}")
        manifest = Manifest.model_validate(job["manifest"])
        with tempfile.TemporaryDirectory(prefix="matchgate-worker-") as tmp:
            path = Path(tmp) / job["source_name"]
            path.write_bytes(jobs.job_content(store, batch_id=batch_id))
            run = BatchRun(requests_path=path, manifest=manifest, agreement=agreement,
                           store=store, engine=self.services.engine,
                           responses_path=Path(tmp) / "responses.csv",
                           actor=Actor(name=self.name, role="service", origin="worker"))
            if run.batch_id != batch_id:
                raise StoreError(f"batch {batch_id!r}: the stored upload no longer hashes to "
                                 "its id")
            run.run()

    @contextmanager
    def _heartbeat(self, batch_id: str) -> Iterator[None]:
        stop = threading.Event()

        def beat() -> None:
            while not stop.wait(self.lease.total_seconds() / 3):
                jobs.renew_lease(self.services.store, batch_id=batch_id, worker=self.name,
                                 lease=self.lease)

        thread = threading.Thread(target=beat, name=f"heartbeat-{batch_id}", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()
