"""The pipeline of one batch: intake, gate, standardize, match, decide, respond, audit.

Each stage is a function over the batch; the I/O (files, stores, engine) is passed in. A batch is
stored before any work starts; decisions are recorded per chunk, so a batch that is stopped and
run again resumes where it stopped and never answers a request twice.
"""

from __future__ import annotations

import dataclasses
import functools
import getpass
import hashlib
import itertools
import json
import threading
import time
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy.engine import Connection

from matchgate import collector
from matchgate.accounting import disclosure_record
from matchgate.agreement import Agreement
from matchgate.arrowquery import query_arrow
from matchgate.audit import AuditEvent, AuditLog, EventType
from matchgate.audit.digests import file_digest, request_ids_digest
from matchgate.audit.tlog import Signer, TransparencyLog
from matchgate.codes import DISCLOSING_CODES, Code
from matchgate.csvsafe import write_csv, write_csv_cells
from matchgate.decide import (
    Candidate,
    Decision,
    RequestFacts,
    Thresholds,
    decide,
    ranks,
)
from matchgate.diskspace import TempSpace
from matchgate.errors import NotFound
from matchgate.evidence import (
    CONSIDERED,
    ENTRY_COLUMN,
    RenderedEvidence,
    decision_evidence,
    with_rendered_entries,
)
from matchgate.faultpoints import reached
from matchgate.gate import Rejection, check_batch, check_manifest, check_request, dedupe_key
from matchgate.intake import Manifest, RequestRow, read_requests
from matchgate.intake.readers import request_stream
from matchgate.match.candidates import (
    DOB_EXACT_LEVEL,
    FIRM_FIRST_NAME_LEVELS,
    FIRM_LAST_NAME_LEVELS,
    FIRST_NAME_INITIAL_ONLY,
    HEAPED_DOB_WEIGHT,
    MIDDLE_AGREES_LEVEL,
    MIDDLE_FULL_LEVEL,
    corroborating,
    dob_heaped,
)
from matchgate.match.engine import MatchEngine
from matchgate.match.fastpath import FastPath
from matchgate.match.indexed import IndexedMatchEngine
from matchgate.match.offload import Finder
from matchgate.progress import NullReporter, Reporter
from matchgate.respond import (
    ADDRESS_FIELDS,
    decision_columns,
    disclosable_under,
    disclosed_fields,
    response_cells,
    response_columns,
    shown_fields,
)
from matchgate.screening import Screener, screen, standardize_fields
from matchgate.standardize import standardize_record
from matchgate.store import Store
from matchgate.store.store import Also

CHUNK = 50_000  # requests per checkpoint: standardized, matched, decided and recorded together
# A batch of at least this many chunks finds their candidates in a child process
# (match/offload.py): starting one costs a few seconds, which a single chunk does not win back.
OFFLOAD_FROM_CHUNKS = 2
# Chunks whose candidates are being found ahead of the one being decided and recorded: the
# first ones while the batch is stored (some 20 s at 1.28 million requests, three chunks' finding
# at 10 million taxpayers); a found chunk held waiting is some 55 MB there.
AHEAD = 3


@dataclass
class Actor:
    name: str = field(default_factory=getpass.getuser)
    role: str = "disclosure_officer"
    origin: str = "cli"


@dataclass(frozen=True)
class BatchResult:
    batch_id: str
    total: int
    codes: dict[str, int]
    reasons: dict[str, int]
    responses_path: Path
    decisions_path: Path | None
    resumed: int


def batch_id_for(requests_path: Path, manifest: Manifest, agreement: Agreement) -> str:
    if not requests_path.is_file():
        raise NotFound(f"request file not found: {requests_path}")
    digest = hashlib.sha256()
    with requests_path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    digest.update(json.dumps(manifest.model_dump(mode="json"), sort_keys=True).encode())
    digest.update(agreement.version.encode())
    return "B-" + digest.hexdigest()[:16]


def thresholds_of(agreement: Agreement) -> Thresholds:
    t = agreement.thresholds
    return Thresholds(match_probability=t.match_probability,
                      review_probability=t.review_probability,
                      ambiguity_margin=t.ambiguity_margin,
                      min_identifiers=t.min_identifiers,
                      initial_with_address=t.initial_with_address)


class BatchRun:
    """Runs one batch through every stage. Build it, then call `run()`."""

    def __init__(self, *, requests_path: Path, manifest: Manifest, agreement: Agreement,
                 store: Store, engine: MatchEngine | Callable[[], MatchEngine],
                 responses_path: Path,
                 decisions_path: Path | None = None, actor: Actor | None = None,
                 reporter: Reporter | None = None, today: date | None = None,
                 chunk_size: int = CHUNK, signer: Signer | None = None,
                 space: TempSpace | None = None) -> None:
        self.requests_path = requests_path
        self.manifest = manifest
        self.agreement = agreement
        self.store = store
        self.audit = AuditLog(store)
        self._engine_source = engine
        self._engine: MatchEngine | None = None
        self.responses_path = responses_path
        self.decisions_path = decisions_path
        self.actor = actor or Actor()
        self.reporter: Reporter = reporter or NullReporter()
        self.today = today or date.today()
        self.chunk_size = chunk_size
        self.batch_id = batch_id_for(requests_path, manifest, agreement)
        self.agreement_version = agreement.version  # a hash of the agreement: computed once
        self.signer = signer
        self.space = space or TempSpace()
        self._keys: dict[str, str] = {}
        self._problems: dict[str, Rejection] = {}
        self._screened: set[str] = set()
        self._standardized: pa.Table | None = None
        self._screener: Screener | None = None
        self._fields: dict[str, dict[str, Any]] = {}
        self.seconds: dict[str, float] = defaultdict(float)
        self._seconds_lock = threading.Lock()

    @property
    def disclosable(self) -> list[str]:
        """What ADDRESS_DIFFERS may disclose under the agreement (nothing unless it says so)."""
        return disclosable_under(self.agreement.disclosure)

    @functools.cached_property
    def _batch_level(self) -> list[Rejection]:
        """The manifest's own problems under the agreement (each rejects every request)."""
        return check_manifest(self.manifest, self.agreement, today=self.today)

    @property
    def engine(self) -> MatchEngine:
        """The match engine, opened only once the batch's files have been read."""
        if self._engine is None:
            source = self._engine_source
            self._engine = source() if callable(source) else source
        return self._engine

    # -- audit helpers -------------------------------------------------------------------------
    def _event(self, event_type: str, *, request_id: str | None = None, outcome: str = "success",
               details: dict[str, Any] | None = None) -> AuditEvent:
        return AuditEvent(event_type=event_type, actor=self.actor.name, role=self.actor.role,
                          origin=self.actor.origin, outcome=outcome, batch_id=self.batch_id,
                          request_id=request_id, agreement_version=self.agreement_version,
                          details=details or {})

    # -- stages ------------------------------------------------------------------------------
    def _read(self, screener: Screener | None = None) -> list[RequestRow]:
        """The batch's requests; each also given to the screener as it is read (the workers
        screen the first parts while the rest of the file is read)."""
        with self.reporter.stage("intake", total=1) as st, self._timed("intake"), \
                collector.paused():
            if screener is None:
                rows = read_requests(self.requests_path).requests
            else:
                for row in request_stream(self.requests_path):
                    screener.add(row)
                rows = screener.rows
            st.advance()
        self._screener = screener
        return rows

    def _screen(self, rows: Sequence[RequestRow]) -> None:
        """Each request's duplicate key and first problem, over every core (screening.py):
        the screener's, which screened them as they were read, or screened now."""
        with self.reporter.stage("screen", total=len(rows)) as st:
            screener, self._screener = self._screener, None
            screening = screener.result() if screener is not None else screen(
                rows, self.manifest, self.agreement, today=self.today,
                check=not self._batch_level)
            self._keys.update(screening.keys)
            self._problems.update(screening.problems)
            self._screened.update(screening.keys)
            self._standardized = screening.standardized
            st.advance(len(rows))

    def _store_batch(self, rows: Sequence[RequestRow]) -> None:
        """The batch, its requests and the events of their receipt, in one transaction: a
        crash leaves either all of them or none (and the next run stores them)."""
        reached("intake.read")
        if self.store.get_batch(batch_id=self.batch_id) is not None:
            return
        # one event for the batch's receipt: the digest of its request_ids stands for each
        # (audit/digests.py)
        events = [self._event(EventType.BATCH_RECEIVED, details={
            "rows": len(rows), "source": self.requests_path.name,
            "requests_sha256": request_ids_digest(r.request_id for r in rows)})]
        self.store.create_batch(
            batch_id=self.batch_id, agreement_id=self.agreement.agreement_id,
            agreement_version=self.agreement_version,
            manifest=self.manifest.model_dump(mode="json"),
            source_name=self.requests_path.name, row_count=len(rows),
            submitted_by=self.manifest.requesting_official or "",
            requests=[{"request_id": r.request_id, "row_number": r.row_number,
                       "payload": r.fields, "dedupe_key": self._key(r)} for r in rows],
            also=self._appending(events, "intake"))

    def _appending(self, events: Sequence[AuditEvent], point: str) -> Also:
        """A write for a Store method's transaction: the events, then the fault point (a
        process killed there dies with the transaction open)."""
        def write(conn: Connection) -> None:
            self.audit.append_in(conn, events)
            reached(point)
        return write

    def _key(self, row: RequestRow) -> str:
        key = self._keys.get(row.request_id)
        if key is None:
            key = self._keys[row.request_id] = dedupe_key(row.fields)
        return key

    def _gate(self, rows: Sequence[RequestRow]) -> dict[str, Rejection]:
        rejected: dict[str, Rejection] = {}
        with self.reporter.stage("gate", total=len(rows)) as st:
            batch_level = self._batch_level
            for r in rows:
                if r.intake_rejection is not None:
                    rejected[r.request_id] = r.intake_rejection
                elif batch_level:
                    rejected[r.request_id] = batch_level[0]
                else:
                    problem = self._problem(r)
                    if problem is not None:
                        rejected[r.request_id] = problem
            st.advance(len(rows))
            ahead = [r for r in rows if r.request_id not in rejected]
            keys = {r.request_id: self._key(r) for r in ahead}
            prior = self.store.prior_dedupe_keys(agreement_id=self.agreement.agreement_id,
                                                 keys=set(keys.values()),
                                                 exclude_batch=self.batch_id)
            rejected.update(check_batch(ahead, self.manifest, self.agreement, prior, keys=keys))
        return rejected

    def _problem(self, row: RequestRow) -> Rejection | None:
        """The request's first problem (screened with the batch; checked here otherwise)."""
        if row.request_id in self._screened:
            return self._problems.get(row.request_id)
        problems = check_request(row.fields, self.manifest, self.agreement, today=self.today)
        return problems[0] if problems else None

    def _standardized_at(self, rows: Sequence[RequestRow]) -> pa.Array | None:
        """Where each row's standardized columns are in the screening's table (worked out once
        for the whole batch: a hash of every request_id per chunk cost more than the lookup);
        None when the screening did not standardize every one of them."""
        if self._standardized is None:
            return None
        ids = pa.array([r.request_id for r in rows], type=pa.string())
        at = pc.index_in(ids, value_set=self._standardized.column("request_id"))
        return at if at.null_count == 0 else None

    def _standardize(self, rows: Sequence[RequestRow], at: pa.Array | None) -> pa.Table:
        """request_id and the STD_COLUMNS of each row: taken from the screening (at `at`), which
        standardized every request without a problem beside the gate's checks (one parse of
        each address), or standardized here when it did not."""
        if self._standardized is not None and at is not None:
            return self._standardized.take(at)
        return standardize_requests(rows)

    def _decide(self, table: pa.Table, candidates: dict[str, list[Candidate]]
                ) -> list[Decision]:
        thresholds = thresholds_of(self.agreement)
        facts = table.select(["request_id", "std_first_canon", "std_suffix", "std_dob"])
        return [decide(request, candidates.get(request.request_id, []), thresholds)
                for request in (RequestFacts(**rec) for rec in facts.to_pylist())]

    def _find(self, finder: Finder, rows: Sequence[RequestRow], at: pa.Array | None
              ) -> Future[Found]:
        """Standardize one chunk and start finding its candidates beside this process's work
        (no state is written there: it runs while the previous chunk is decided and
        recorded)."""
        with self._timed("standardize"):
            table = self._standardize(rows, at)
        self.space.check()
        return finder.submit(found_for_chunk, table,
                             thresholds_of(self.agreement).review_probability)

    def _chunk(self, found: Found) -> None:
        """Decide and record one chunk: a checkpoint (once its decisions are recorded, a re-run
        skips its requests)."""
        table, kept, counts, seconds = found
        with self._seconds_lock:
            self.seconds["match"] += seconds
        reached("match")
        # the chunk's candidates, decisions and records are hundreds of thousands of objects,
        # all freed once it is recorded: no cyclic collection walks them while they are built
        with collector.paused():
            with self._timed("match"):
                candidates = candidates_by_request(kept)
            with self._timed("decide"):
                decisions = self._decide(table, candidates)
            reached("decide")
            with self._timed("record"):
                self._record_decisions(decisions, candidates, counts)

    @contextmanager
    def _timed(self, stage: str) -> Iterator[None]:
        started = time.monotonic()
        try:
            yield
        finally:
            with self._seconds_lock:  # the finding thread times its stages too
                self.seconds[stage] += time.monotonic() - started

    # -- recording ---------------------------------------------------------------------------
    def _stored(self, request_id: str, code: Code, reason: str, *, detail: str | None = None,
                decision: Decision | None = None,
                considered: Sequence[Candidate] = ()) -> dict[str, Any]:
        best = decision.best if decision else None
        disclosed = disclosed_fields(code, best.last_address if best else None,
                                     self.disclosable)
        return {
            "request_id": request_id, "code": code.value, "reason": reason,
            "matched_tin": decision.matched_tin if decision else None,
            "match_probability": decision.match_probability if decision else None,
            "runner_up_probability": decision.runner_up_probability if decision else None,
            "disclosed": disclosed, "evidence": decision_evidence(detail, best, considered),
            "agreement_version": self.agreement_version,
            "master_version": self.engine.master_version,
            "decided_by": "matchgate",
        }

    def _save(self, decisions: list[dict[str, Any]], events: list[AuditEvent],
              accounting: Sequence[dict[str, Any]] = (), *, point: str = "record") -> None:
        """The decisions, their accounting records and their audit events in one transaction
        (a checkpoint: a stopped batch resumes after the last recorded decisions, and a
        decision never exists without its events, nor events without their decision)."""
        if not decisions and not events:
            return
        self.store.record_decisions(batch_id=self.batch_id, decisions=decisions,
                                    accounting=accounting, also=self._appending(events, point))
        reached("recorded")

    def _record_rejections(self, rows: Sequence[RequestRow],
                           rejected: dict[str, Rejection]) -> None:
        decisions, events = [], []
        for r in rows:
            rej = rejected.get(r.request_id)
            if rej is None:
                continue
            detail = f"{rej.message} (field '{rej.field}')" if rej.field else rej.message
            decisions.append(self._stored(r.request_id, rej.code, rej.reason, detail=detail))
            events.append(self._event(EventType.REQUEST_GATED, request_id=r.request_id,
                                      outcome="failure",
                                      details={"reason": rej.reason, "field": rej.field}))
        self._save(decisions, events, point="gate")

    def _record_decisions(self, decisions: Sequence[Decision],
                          candidates: dict[str, list[Candidate]], counts: dict[str, int]
                          ) -> None:
        """Each decision with its `request.decided` event (and a disclosure's event and
        accounting record). The decided event is also the request's gate record: it says the
        request passed the gate ("gate": "passed"), as `request.gated` with outcome failure says
        a rejection did not (one event per request's verdict rather than two)."""
        stored: list[dict[str, Any]] = []
        accounting: list[dict[str, Any]] = []
        events: list[AuditEvent] = []
        for d in decisions:
            row = self._stored(d.request_id, d.code, d.reason, decision=d,
                               considered=candidates.get(d.request_id, []))
            stored.append(row)
            details: dict[str, Any] = {"gate": "passed", "code": d.code.value,
                                       "reason": d.reason,
                                       "candidates": counts.get(d.request_id, 0)}
            ref = self.audit.tin_ref(d.matched_tin) if d.matched_tin else None
            if ref is not None:
                details["taxpayer"] = ref
                details["match_probability"] = d.match_probability
            events.append(self._event(EventType.REQUEST_DECIDED, request_id=d.request_id,
                                      details=details))
            if d.code in DISCLOSING_CODES and d.matched_tin:
                events.append(self._event(EventType.DISCLOSURE, request_id=d.request_id, details={
                    "taxpayer": ref,
                    "recipient": self.agreement.requesting_agency,
                    "legal_basis": self.manifest.legal_basis,
                    "fields": sorted(row["disclosed"]) or ["verification_code"]}))
                accounting.append(disclosure_record(
                    tin=d.matched_tin, batch_id=self.batch_id, request_id=d.request_id,
                    recipient_agency=self.agreement.requesting_agency,
                    legal_basis=self.manifest.legal_basis,
                    agreement_id=self.agreement.agreement_id,
                    agreement_version=self.agreement_version,
                    request_fields=self._fields.get(d.request_id, {}),
                    disclosed=row["disclosed"]))
        self._save(stored, events, accounting)

    def _respond(self) -> tuple[dict[str, int], dict[str, int]]:
        """Write the response file (and the decision export), then, in one transaction,
        `batch.completed` (the number of responses and the file's SHA-256: one event stands
        for every answer, audit/digests.py) and the batch's done state. A batch that is already
        done gets its files written again and one `batch.responses_rewritten` event with the
        new file's digest: its requests were answered once, and the log says so once."""
        started = time.monotonic()
        # one read for both files: the response file and the decision export agree
        decisions = None if self.decisions_path is None else self.store.decisions_for_batch(
            batch_id=self.batch_id, with_evidence=False)
        source = self.store.response_source(batch_id=self.batch_id) if decisions is None else [
            (d["request_id"], d["code"], d["reason"], d["disclosed"]) for d in decisions]
        columns = response_columns(self.disclosable)
        shown = shown_fields(columns)
        with self.reporter.stage("respond", total=len(source)) as st:
            write_csv_cells(self.responses_path, columns,
                            (response_cells(request_id, code, reason, disclosed, shown)
                             for request_id, code, reason, disclosed in source))
            if self.decisions_path is not None and decisions is not None:
                write_csv(self.decisions_path, decision_columns(),
                          ({**d, "batch_id": self.batch_id} for d in decisions))
            st.advance(len(source))
        responses = {"responses": len(source),
                     "responses_sha256": file_digest(self.responses_path)}
        reached("respond.written")
        codes = Counter(str(code) for _, code, _, _ in source)
        reasons = Counter(str(reason) for _, _, reason, _ in source)
        batch = self.store.get_batch(batch_id=self.batch_id)
        if batch is not None and batch["status"] == "done":
            self.audit.append([self._event(EventType.BATCH_RESPONSES_REWRITTEN, details=responses)])
            return dict(codes), dict(reasons)
        if batch is not None and batch["status"] != "running":
            self.store.set_batch_status(batch_id=self.batch_id, status="running")
        seconds = {**self.seconds}
        seconds["respond"] = seconds.get("respond", 0.0) + time.monotonic() - started
        events = [self._event(EventType.BATCH_COMPLETED, details={
            "codes": dict(codes), **responses,
            "seconds": {k: round(v, 2) for k, v in seconds.items()}})]
        self.store.set_batch_status(batch_id=self.batch_id, status="done",
                                    master_version=self.engine.master_version,
                                    also=self._appending(events, "respond"))
        return dict(codes), dict(reasons)

    def _work(self, rows: list[RequestRow], todo: list[RequestRow], finder: Finder) -> None:
        """Screen the batch, store it, then decide and record the requests not answered yet.

        The first chunks' candidates are being found (match/offload.py: in a child process,
        started once the batch was read, or in a thread) while the batch-level checks run and
        the batch and its rejections are stored: finding writes nothing, and nothing is
        recorded before the batch is stored. Those first chunks are cut from the requests that
        passed screening, before the batch-level checks (limits, duplicates) have run (some
        10 s at 1.28 million requests in which the finding child would otherwise wait): a
        request those checks reject is left out when its chunk is decided, and recorded with
        the other rejections. Recording stays in order, one chunk at a time, so a stopped batch
        still resumes after its last recorded chunk. (Deciding in the child too was slower: the
        child became the longer side, 1,076 s against 800 s at 10M x 1.28M.)"""
        with self._timed("gate"):
            self._screen(rows)
        early = self._passed(todo, AHEAD * self.chunk_size)
        chunks, places = self._chunked(early)
        pending: deque[Future[Found]] = deque(
            self._find(finder, chunk, at) for chunk, at in zip(chunks, places, strict=True))
        with self._timed("gate"):
            rejected = self._gate(todo)
        found_early = {r.request_id for r in early}
        first = len(chunks)
        more, more_places = self._chunked([r for r in todo if r.request_id not in rejected
                                           and r.request_id not in found_early])
        chunks += more
        places += more_places
        # the requests of the first chunks that the batch-level checks rejected
        dropped = found_early & rejected.keys()
        for n in range(len(pending), min(AHEAD, len(chunks))):
            pending.append(self._find(finder, chunks[n], places[n]))
        with self._timed("intake"), collector.paused():
            self._store_batch(rows)
        if not todo:
            return
        self.store.set_batch_status(batch_id=self.batch_id, status="running",
                                    master_version=self.engine.master_version)
        with self._timed("gate"), collector.paused():
            self._record_rejections(todo, rejected)
        with self.reporter.stage("match", total=len(todo) - len(rejected)) as st:
            for n in range(len(chunks)):
                # chunks are found ahead: a temporary folder that fills up stops the batch at
                # the next chunk all the same (what is recorded stays; a rerun resumes)
                self.space.check()
                found = finder.result(pending.popleft())
                if n + AHEAD < len(chunks):
                    pending.append(self._find(finder, chunks[n + AHEAD], places[n + AHEAD]))
                if dropped and n < first:
                    found = _without(found, dropped)
                self._chunk(found)
                st.advance(found[0].num_rows)

    def _passed(self, todo: Sequence[RequestRow], limit: int) -> list[RequestRow]:
        """The first `limit` requests that passed screening (none when the batch itself is
        refused)."""
        if self._batch_level:
            return []
        return list(itertools.islice(
            (r for r in todo if r.intake_rejection is None
             and r.request_id in self._screened and r.request_id not in self._problems),
            limit))

    def _chunked(self, rows: list[RequestRow]
                 ) -> tuple[list[list[RequestRow]], list[pa.Array | None]]:
        """The rows in chunks of chunk_size, and where each chunk's standardized columns are
        (None where they are standardized when the chunk is found)."""
        size = self.chunk_size
        at = self._standardized_at(rows)
        starts = range(0, len(rows), size)
        return ([rows[i:i + size] for i in starts],
                [None if at is None else at[i:i + size] for i in starts])

    def run(self) -> BatchResult:
        """Run the batch; a full temporary folder stops it with NoSpace (what is recorded
        stays recorded, and a run once space is back resumes after it)."""
        with self.space.translating():
            return self._run()

    def _run(self) -> BatchResult:
        self.space.check()
        with Screener(self.manifest, self.agreement, today=self.today,
                      check=not self._batch_level) as screener:
            rows = self._read(screener)
            with collector.kept():  # the rows live as long as the batch: never garbage
                return self._answer(rows)

    def _answer(self, rows: list[RequestRow]) -> BatchResult:
        """Screen and store the batch, decide and record the requests not answered yet, then
        write the responses."""
        self._fields = {r.request_id: r.fields for r in rows}
        done = self.store.decided_request_ids(batch_id=self.batch_id)
        todo = [r for r in rows if r.request_id not in done]
        # a batch of several chunks finds them in a child process (match/offload.py), started
        # now: it opens the engine while this process screens the batch
        finding = bool(todo) and not self._batch_level
        chunks = -(-len(todo) // self.chunk_size)
        with Finder(self.engine if finding else None,
                    in_process=finding and chunks >= OFFLOAD_FROM_CHUNKS) as finder:
            self._work(rows, todo, finder)
        with self._timed("respond"), collector.paused():  # a million rows read and dropped
            codes, reasons = self._respond()
        if self.signer is not None:
            TransparencyLog(self.store).checkpoint(self.signer,
                                                   reason=f"batch.completed {self.batch_id}")
        return BatchResult(batch_id=self.batch_id, total=len(rows), codes=codes,
                           reasons=reasons, responses_path=self.responses_path,
                           decisions_path=self.decisions_path, resumed=len(done))


def standardize_requests(rows: Sequence[RequestRow]) -> pa.Table:
    """request_id and every STD_COLUMNS column, as strings."""
    return standardize_fields([r.request_id for r in rows], [r.fields for r in rows])


PARSE_IN_DUCKDB_FROM = 1000


# A chunk's found candidates: its standardized requests, the candidates its decisions and their
# records can use (needed_rows, evidence parsed), the number of candidates found per request,
# and the seconds finding took.
Found = tuple[pa.Table, pa.Table, dict[str, int], float]


def found_for_chunk(engine: MatchEngine, table: pa.Table, keep_from: float) -> Found:
    """The candidates of one chunk of standardized requests, cut to what deciding and recording
    them can use (in a child process, match/offload.py, or a thread). The indexed engine cuts
    them before joining their taxpayers' columns."""
    started = time.monotonic()
    counts: dict[str, int] = {}

    def needed(found: pa.Table) -> pa.Table:
        counts.update(candidate_counts(found))
        kept = with_parsed_evidence(found)
        keep = needed_rows(kept, keep_from) if kept.num_rows else None
        return kept.filter(pa.array(keep)) if keep is not None else kept

    if isinstance(engine, IndexedMatchEngine):
        kept = engine.find_candidates(table, narrow=needed)
    else:
        kept = needed(engine.find_candidates(table))
    return table, with_rendered_entries(kept), counts, time.monotonic() - started


def with_parsed_evidence(candidates: pa.Table) -> pa.Table:
    """The engine's candidates with the evidence column (JSON text, the same keys on every
    row) parsed into a struct by DuckDB: a hundred thousand json.loads calls fewer per chunk.
    Below PARSE_IN_DUCKDB_FROM rows (a single request's few candidates) opening DuckDB costs
    more than it saves: the text is left for candidate_from_row's json.loads (the same values).
    Evidence that is a struct already (the indexed engine's bulk chunks) is left as it is."""
    if candidates.num_rows < PARSE_IN_DUCKDB_FROM or \
            pa.types.is_struct(candidates.column("evidence").type) or \
            not candidates.column("evidence").is_valid()[0].as_py():
        return candidates
    sample = json.loads(candidates.column("evidence")[0].as_py())
    if set(sample) != {"match_weights", "gamma"}:
        return candidates
    shape = json.dumps({"match_weights": {k: "DOUBLE" for k in sample["match_weights"]},
                        "gamma": {k: "INTEGER" for k in sample["gamma"]}})
    return query_arrow("SELECT * REPLACE (json_transform(evidence, ?) AS evidence) "
                       "FROM candidates", {"candidates": candidates}, params=[shape])


def gamma_facts(gamma: dict[str, int]) -> dict[str, Any]:
    """What a candidate's gamma levels say (the Candidate fields that depend on them only: the
    same for every candidate with the same levels)."""
    first, middle = gamma.get("first_name", -1), gamma.get("middle_name", -1)
    return {
        "corroborated_by": corroborating(gamma),
        "given_name_agrees": None if first == FIRST_NAME_INITIAL_ONLY else first != 0,
        "surname_agrees": gamma.get("last_name", -1) != 0,
        "middle_agrees": None if middle == -1 else middle >= MIDDLE_AGREES_LEVEL,
        "middle_full": middle >= MIDDLE_FULL_LEVEL,
        "conflicts": frozenset({*(["middle_name"] if 0 <= middle < MIDDLE_AGREES_LEVEL else []),
                                *(["tin"] if gamma.get("tin") == 0 else [])}),
        "name_firm": (first in FIRM_FIRST_NAME_LEVELS
                      and gamma.get("last_name", -1) in FIRM_LAST_NAME_LEVELS),
    }


def weight_facts(gamma: dict[str, int], weights: dict[str, float]) -> dict[str, Any]:
    """The Candidate fields that depend on the match weights too (term-frequency adjusted, so
    they differ between candidates with the same levels)."""
    return {"dob_heaped": dob_heaped(gamma, weights),
            "name_weight": sum(float(weights.get(c) or 0.0)
                               for c in ("first_name", "last_name"))}


def _gammas(evidence: dict[str, Any]) -> dict[str, int]:
    return {k: (-1 if v is None else int(v)) for k, v in evidence.get("gamma", {}).items()}


def candidates_by_request(found: pa.Table, *, keep_from: float | None = None
                          ) -> dict[str, list[Candidate]]:
    """The engine's candidates (CANDIDATE_COLUMNS) as Candidates per request_id, in table order:
    the same as candidate_from_row on each row, read column by column, the gamma facts worked
    out once per distinct combination of levels (a few hundred in a chunk of a million).

    With `keep_from` (the review probability), only the candidates a decision and its record
    can use are kept (`needed_rows`): the same decisions and the same recorded evidence, for a
    fraction of the Python work when a large master gives a request many candidates.

    Evidence parsed into a struct (a chunk's candidates, with_parsed_evidence) is read in
    arrays: the gamma facts and weights as numbers, the evidence dicts column by column, or,
    where the finding process rendered each candidate's entry (evidence.with_rendered_entries),
    kept as that text (RenderedEvidence: a decision's evidence is then put together from it)."""
    table = with_parsed_evidence(found)
    if table.num_rows == 0:
        return {}
    if keep_from is not None:
        keep = needed_rows(table, keep_from)
        if keep is not None:
            table = table.filter(pa.array(keep))
    names = ["request_id", "tin", "match_probability", "match_weight", "address_is_last_known",
             "std_first_canon", "std_last", "std_suffix", "std_dob", "household_key",
             *(f"last_{f}" for f in ADDRESS_FIELDS)]
    cols: dict[str, list[Any]] = {
        n: (table.column(n).to_pylist() if n in table.column_names else [None] * table.num_rows)
        for n in names}
    addresses = [dict(zip(ADDRESS_FIELDS, values, strict=True)) for values in
                 zip(*(cols[f"last_{f}"] for f in ADDRESS_FIELDS), strict=True)]
    evidence = table.column("evidence").combine_chunks()
    evidences: Sequence[Mapping[str, Any]]
    if pa.types.is_struct(evidence.type) and table.num_rows:
        facts, combinations, at = _struct_facts(evidence)
        if ENTRY_COLUMN in table.column_names:  # rendered in the finding process
            evidences = [RenderedEvidence(entry)
                         for entry in table.column(ENTRY_COLUMN).to_pylist()]
        else:
            evidences = _evidences(evidence, combinations, at)
    else:
        facts, evidences = _text_facts(evidence.to_pylist())
    by_request: dict[str, list[Candidate]] = defaultdict(list)
    for i, (known, tin, probability, weight, last_known) in enumerate(zip(
            facts, cols["tin"], cols["match_probability"], cols["match_weight"],
            cols["address_is_last_known"], strict=True)):
        by_request[cols["request_id"][i]].append(_candidate({
            "tin": tin, "match_probability": float(probability), "match_weight": float(weight),
            "address_is_last_known": bool(last_known),
            "std_first_canon": cols["std_first_canon"][i], "std_last": cols["std_last"][i],
            "std_suffix": cols["std_suffix"][i], "std_dob": cols["std_dob"][i],
            "household_key": cols["household_key"][i], "evidence": evidences[i],
            "last_address": addresses[i], **known}))
    return by_request


_CANDIDATE_FIELDS = frozenset(f.name for f in dataclasses.fields(Candidate))


def _candidate(values: dict[str, Any]) -> Candidate:
    """Candidate(**values), every field given, without the frozen dataclass's __init__ (an
    object.__setattr__ per field: most of the cost of a chunk's hundreds of thousands of
    candidates). Values that are not exactly the fields take the constructor."""
    if values.keys() != _CANDIDATE_FIELDS:
        return Candidate(**values)
    candidate = object.__new__(Candidate)
    candidate.__dict__.update(values)
    return candidate


def struct_rows(array: pa.StructArray) -> list[dict[str, Any] | None]:
    """The struct array's values as dicts (nested structs too), column by column: the values
    of to_pylist(), several times faster for a few hundred thousand rows of nested structs."""
    names = [array.type.field(i).name for i in range(array.type.num_fields)]
    columns = [struct_rows(child) if pa.types.is_struct(child.type) else child.to_pylist()
               for child in array.flatten()]
    valid = array.is_valid().to_pylist()
    return [dict(zip(names, values, strict=True)) if ok else None
            for ok, *values in zip(valid, *columns, strict=True)]


def _text_facts(texts: list[Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Per candidate, its Candidate facts and its evidence, from evidence as JSON text (or
    dicts): row by row, the gamma facts once per combination of levels."""
    facts: list[dict[str, Any]] = []
    evidences: list[dict[str, Any]] = []
    known: dict[tuple[tuple[str, int], ...], dict[str, Any]] = {}
    for raw in texts:
        evidence = (dict(raw) if isinstance(raw, dict) else json.loads(raw)) if raw else {}
        gamma = _gammas(evidence)
        key = tuple(gamma.items())
        if key not in known:
            known[key] = gamma_facts(gamma)
        facts.append({**known[key], **weight_facts(gamma, evidence.get("match_weights") or {})})
        evidences.append(evidence)
    return facts, evidences


def level_combinations(gammas: pa.StructArray
                       ) -> tuple[dict[str, np.ndarray], list[dict[str, int]], np.ndarray]:
    """Each comparison's gamma levels (-1 for none), the distinct combinations of levels among
    the candidates (as gamma dicts) and, per candidate, the index of its combination: what
    depends on the levels alone is worked out once per combination (a few hundred in a chunk
    of a million)."""
    names = [gammas.type.field(i).name for i in range(gammas.type.num_fields)]
    levels = {n: pc.fill_null(gammas.field(n), -1).to_numpy(zero_copy_only=False
                                                             ).astype(np.int64) for n in names}
    code = np.zeros(len(gammas), dtype=np.int64)
    for n in names:  # one integer per combination of levels (each level in -1..62)
        code = code * 64 + levels[n] + 1
    _, first, inverse = np.unique(code, return_index=True, return_inverse=True)
    combinations = [{n: int(levels[n][at]) for n in names} for at in first]
    return levels, combinations, inverse.reshape(-1)


def _struct_facts(evidence: pa.StructArray
                  ) -> tuple[list[dict[str, Any]], list[dict[str, int]], list[int]]:
    """_text_facts' facts for evidence parsed into a struct: the levels and weights in arrays,
    the gamma facts once per combination of levels; with the combinations and the index of
    each candidate's (for _evidences)."""
    weights = evidence.field("match_weights")
    levels, combinations, inverse = level_combinations(evidence.field("gamma"))
    known = [gamma_facts(gamma) for gamma in combinations]

    def weight(name: str, missing: float) -> np.ndarray:
        if weights.type.get_field_index(name) < 0:
            return np.full(len(evidence), missing)
        return pc.fill_null(weights.field(name), missing).to_numpy(zero_copy_only=False)

    name_weight = (weight("first_name", 0.0) + weight("last_name", 0.0)).tolist()
    dob = levels.get("dob", np.full(len(evidence), -1))
    heaped = ((dob == DOB_EXACT_LEVEL)
              & (weight("dob", HEAPED_DOB_WEIGHT) < HEAPED_DOB_WEIGHT)).tolist()
    at = inverse.tolist()
    facts = [{**known[k], "dob_heaped": h, "name_weight": w}
             for k, h, w in zip(at, heaped, name_weight, strict=True)]
    return facts, combinations, at


def _evidences(evidence: pa.StructArray, combinations: list[dict[str, int]],
               at: list[int]) -> list[dict[str, Any]]:
    """Each candidate's evidence as a dict (struct_rows). When it is the weights and the levels
    alone, none of them null, the candidates with the same levels share one gamma dict, made
    once per combination (evidence is read, never changed)."""
    gammas = evidence.field("gamma")
    names = {evidence.type.field(i).name for i in range(evidence.type.num_fields)}
    if names != {"match_weights", "gamma"} or evidence.null_count or gammas.null_count or any(
            gammas.field(i).null_count for i in range(gammas.type.num_fields)):
        return [e or {} for e in struct_rows(evidence)]
    weights = struct_rows(evidence.field("match_weights"))
    return [{"match_weights": w, "gamma": combinations[k]}
            for w, k in zip(weights, at, strict=True)]


def _without(found: Found, dropped: set[str]) -> Found:
    """A found chunk without the requests in `dropped` (and their candidates)."""
    table, kept, counts, seconds = found
    ids = pa.array(sorted(dropped), type=pa.string())

    def keep(t: pa.Table) -> pa.Table:
        return t.filter(pc.invert(pc.is_in(t.column("request_id"), value_set=ids)))

    return (keep(table), keep(kept) if kept.num_rows else kept,
            {k: v for k, v in counts.items() if k not in dropped}, seconds)


def candidate_counts(found: pa.Table) -> dict[str, int]:
    """How many candidates the engine found per request_id."""
    if found.num_rows == 0:
        return {}
    counts = pc.value_counts(found.column("request_id").combine_chunks())
    return dict(zip(counts.field("values").to_pylist(), counts.field("counts").to_pylist(),
                    strict=True))


def _top(group: np.ndarray, order: np.ndarray, limit: int) -> np.ndarray:
    """Of the rows in `order` (sorted by group, then by rank within it), those among the first
    `limit` of their group."""
    grouped = group[order]
    starts = np.flatnonzero(np.r_[True, grouped[1:] != grouped[:-1]])
    first = np.repeat(starts, np.diff(np.r_[starts, len(order)]))
    return order[np.arange(len(order)) - first < limit]


def needed_rows(table: pa.Table, keep_from: float) -> np.ndarray | None:
    """Which candidates decide() and considered_evidence() can use, per request: the first
    CONSIDERED by probability (the evidence), the best two by match weight among those
    decide() ranks (best and runner-up) and every ranked one at or above `keep_from`
    (plausible rivals). The rest can change neither the decision nor its record. None when the
    evidence is not parsed into columns (a few rows: nothing to save)."""
    evidence = table.column("evidence")
    if not pa.types.is_struct(evidence.type):
        return None
    _, combinations, inverse = level_combinations(evidence.combine_chunks().field("gamma"))
    ranked = np.array([_ranked(gamma) for gamma in combinations], dtype=bool)[inverse]
    # group ids by hashing (their order does not matter), TINs ranked in their string order
    group = pc.dictionary_encode(table.column("request_id").combine_chunks()
                                 ).indices.to_numpy(zero_copy_only=False)
    tin = tin_order(table.column("tin").combine_chunks())
    probability = table.column("match_probability").to_numpy()
    weight = table.column("match_weight").to_numpy()
    keep = np.zeros(table.num_rows, dtype=bool)
    keep[_top(group, np.lexsort((tin, -weight, -probability, group)), CONSIDERED)] = True
    among = np.flatnonzero(ranked)
    best_two = among[np.lexsort((tin[among], -weight[among], group[among]))]
    keep[_top(group, best_two, 2)] = True
    keep |= ranked & (probability >= keep_from)
    return keep


def tin_order(tins: pa.Array) -> np.ndarray:
    """Numbers that order the TINs as their strings do: the TINs themselves when every one is
    nine digits (the master's are: a cast, a tenth of the time of ranking 800,000 strings),
    their dense rank otherwise."""
    if tins.null_count == 0 and len(tins) and pc.all(pc.and_(
            pc.equal(pc.utf8_length(tins), 9), pc.utf8_is_digit(tins))).as_py():
        return np.asarray(pc.cast(tins, pa.int64()))
    return np.asarray(pc.rank(tins, sort_keys="ascending", tiebreaker="dense"))


def _ranked(gamma: dict[str, int]) -> bool:
    """Whether decide() ranks a candidate with these levels."""
    facts = gamma_facts(gamma)
    return ranks(facts["given_name_agrees"], facts["corroborated_by"])


def candidate_from_row(row: dict[str, Any]) -> Candidate:
    """A candidate from one row of the engine's output (CANDIDATE_COLUMNS; the evidence as
    JSON text or already parsed)."""
    (facts,), (evidence,) = _text_facts([row.get("evidence")])
    return Candidate(
        tin=row["tin"], match_probability=float(row["match_probability"]),
        match_weight=float(row["match_weight"]),
        address_is_last_known=bool(row["address_is_last_known"]),
        std_first_canon=row.get("std_first_canon"), std_last=row.get("std_last"),
        std_suffix=row.get("std_suffix"), std_dob=row.get("std_dob"),
        household_key=row.get("household_key"), **facts, evidence=evidence,
        last_address={f: row.get(f"last_{f}") for f in ADDRESS_FIELDS},
    )


def decide_single(fastpath: FastPath, fields: dict[str, str | None], thresholds: Thresholds,
                  *, request_id: str = "lookup") -> tuple[Decision, list[Candidate]]:
    """One request, in process: standardized, its candidates from the fast path's index,
    scored with the same model and decided by the same rules as a batch."""
    request: dict[str, Any] = {"request_id": request_id, **standardize_record(fields)}
    candidates = [candidate_from_row(row) for row in fastpath.find_candidates(request)]
    facts = RequestFacts(request_id=request_id, std_first_canon=request["std_first_canon"],
                         std_suffix=request["std_suffix"], std_dob=request["std_dob"])
    return decide(facts, candidates, thresholds), candidates
