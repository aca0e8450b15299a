"""The batch worker: claims queued batches from the store and runs each through the pipeline.

A claim is a lease, renewed by a heartbeat while the batch runs (a beat that meets a database
error retries). A worker that dies stops renewing; once its lease lapses another worker claims
the batch and runs it again, and the pipeline resumes where the decisions stop, so no request is
answered twice. A worker that loses its database connection, or finds the temporary folder full
(MATCHGATE_TMP_DIR), puts the batch back in the queue with the reason, pauses, and claims it
again: the batch resumes once the database or the space is back.
"""

from __future__ import annotations

import logging
import os
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from sqlalchemy.exc import DBAPIError

from matchgate.agreement import Agreement
from matchgate.errors import MatchgateError, NoSpace, StoreError
from matchgate.faultpoints import reached
from matchgate.intake import Manifest
from matchgate.pipeline import Actor, BatchRun
from matchgate.service import Services
from matchgate.store import jobs

log = logging.getLogger("matchgate.worker")
RETRY_SECONDS = 0.5
RETRY_MAX_SECONDS = 5.0
RELEASE_ATTEMPTS = 8


def worker_name() -> str:
    return f"worker:{socket.gethostname()}:{os.getpid()}"


class Worker:
    def __init__(self, services: Services, *, name: str | None = None) -> None:
        self.services = services
        self.name = name or worker_name()
        self.lease = timedelta(seconds=services.settings.worker_lease_seconds)

    def run_once(self, *, batch_id: str | None = None) -> str | None:
        """Claim one batch (the oldest, or the one named) and run it; the batch id or None.

        A batch that cannot go on for a reason that passes (the database connection lost, the
        temporary folder full) is released back to the queue, to be resumed by the next claim;
        an error in the batch itself fails it."""
        store = self.services.store
        claimed = jobs.claim_job(store, worker=self.name, lease=self.lease, batch_id=batch_id)
        if claimed is None:
            return None
        log.info("claimed batch %s", claimed)
        try:
            with self._heartbeat(claimed):
                self.process(claimed)
        except NoSpace as exc:
            log.warning("batch %s stopped: %s", claimed, exc.message)
            self._release(claimed, exc.message)
            raise
        except DBAPIError as exc:
            log.warning("batch %s stopped: the database connection failed (%s)", claimed,
                        type(exc.orig).__name__)
            self._release(claimed, "the database connection was lost; the batch resumes")
            raise StoreError(f"batch {claimed}: the operational store's connection failed "
                             f"({type(exc.orig).__name__}); the batch is back in the queue",
                             hint="check the database, then start the worker again") from exc
        except MatchgateError as exc:
            log.warning("batch %s failed: %s", claimed, exc.code)
            jobs.finish_job(store, batch_id=claimed, worker=self.name, error=exc.message)
            return claimed
        reached("worker.finish")
        jobs.finish_job(store, batch_id=claimed, worker=self.name)
        log.info("batch %s done", claimed)
        return claimed

    def _release(self, batch_id: str, why: str) -> None:
        """Put the batch back in the queue (retrying while the database comes back); if that
        never succeeds, the lease lapses and any worker claims the batch again."""
        for attempt in range(RELEASE_ATTEMPTS):
            try:
                if jobs.release_job(self.services.store, batch_id=batch_id, worker=self.name,
                                    note=why):
                    log.info("batch %s released to the queue", batch_id)
                return
            except DBAPIError:
                time.sleep(min(RETRY_MAX_SECONDS, RETRY_SECONDS * 2 ** attempt))
        log.warning("batch %s could not be released; its lease will lapse", batch_id)

    def run_forever(self, stop: threading.Event) -> None:
        """Run batches until `stop`; a lost database or a full disk pauses, then goes on."""
        pause = self.services.settings.worker_poll_seconds
        while not stop.is_set():
            try:
                ran = self.run_once()
            except (DBAPIError, StoreError, NoSpace) as exc:
                log.warning("worker paused %.1f s: %s", pause, getattr(exc, "code", "db"))
                stop.wait(pause)
                pause = min(RETRY_MAX_SECONDS * 10, pause * 2)
                continue
            pause = self.services.settings.worker_poll_seconds
            if ran is None:
                stop.wait(pause)

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
        space = self.services.space
        with space.translating(), \
                tempfile.TemporaryDirectory(prefix="matchgate-worker-") as tmp:
            space.check()
            path = Path(tmp) / job["source_name"]
            path.write_bytes(jobs.job_content(store, batch_id=batch_id))
            run = BatchRun(requests_path=path, manifest=manifest, agreement=agreement,
                           store=store, engine=lambda: self.services.engine,
                           responses_path=Path(tmp) / "responses.csv",
                           actor=Actor(name=self.name, role="service", origin="worker"),
                           chunk_size=self.services.settings.batch_chunk, space=space)
            if run.batch_id != batch_id:
                raise StoreError(f"batch {batch_id!r}: the stored upload no longer hashes to "
                                 "its id")
            run.run()

    @contextmanager
    def _heartbeat(self, batch_id: str) -> Iterator[None]:
        stop = threading.Event()

        def beat() -> None:
            while not stop.wait(self.lease.total_seconds() / 3):
                self._renew(batch_id, stop)

        thread = threading.Thread(target=beat, name=f"heartbeat-{batch_id}", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()

    def _renew(self, batch_id: str, stop: threading.Event) -> None:
        """Renew the lease, retrying a transient database error within the lease's third."""
        give_up = time.monotonic() + self.lease.total_seconds() / 3
        wait = RETRY_SECONDS
        while not stop.is_set():
            try:
                if not jobs.renew_lease(self.services.store, batch_id=batch_id,
                                        worker=self.name, lease=self.lease):
                    log.warning("batch %s: the lease was lost to another worker", batch_id)
                return
            except DBAPIError as exc:
                if time.monotonic() > give_up:
                    log.warning("batch %s: the heartbeat failed (%s); retrying next beat",
                                batch_id, type(exc.orig).__name__)
                    return
                stop.wait(wait)
                wait = min(RETRY_MAX_SECONDS, wait * 2)
