"""Audit events: small frozen dataclasses, one per thing that happened (Datasette's style).

    AuditEvent("batch.received", actor="agency-user-7", role="requester", origin="api:10.0.0.5",
               outcome="success", batch_id="B-2026-0001", details={"rows": 1000})

The log adds the sequence number, the time and the hashes when the event is appended.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from matchgate.audit.redact import check_details

OUTCOMES = ("success", "failure")


class EventType:
    """Every event type matchgate writes, and when (an overseer reads this list to know what the
    log can contain). Plain str constants: the log stores the string itself, so stored values
    and comparisons with strings are unchanged. A test (tests/test_event_types.py) checks that
    every type is written somewhere in src, through these constants, and that a batch's log
    holds no other."""

    # -- agreements and users (CLI) --------------------------------------------------------------
    #: an agreement version is loaded and put in force (`matchgate agreement load`, the demo)
    AGREEMENT_LOADED = "agreement.loaded"
    #: a user is added, with role and agency (`matchgate users add`; never the token)
    USER_ADDED = "user.added"
    #: a user's token is issued or rotated (`matchgate users token`; only its expiry)
    USER_TOKEN_ISSUED = "user.token_issued"
    #: a user's tokens are revoked (`matchgate users revoke`; how many)
    USER_TOKENS_REVOKED = "user.tokens_revoked"

    # -- a batch through the API -----------------------------------------------------------------
    #: a requester submits a batch (POST /api/v1/batches, and a single request;
    #: not again for the same batch submitted twice)
    BATCH_SUBMITTED = "batch.submitted"
    #: a disclosure officer signs off a batch's release to the requester
    BATCH_RELEASED = "batch.released"
    #: a disclosure officer refuses a batch's release
    BATCH_RELEASE_REFUSED = "batch.release_refused"
    #: a requester reads a released batch's responses (rows read)
    RESPONSE_READ = "response.read"
    #: a requester asks for a batch it may not see, or one that does not exist (outcome failure)
    ACCESS_DENIED = "access.denied"

    # -- a batch through the pipeline (`matchgate verify`, the worker) ---------------------------
    #: the batch and its requests are stored: rows and the digest of their request_ids
    BATCH_RECEIVED = "batch.received"
    #: the gate rejects a request (outcome failure; batches recorded before session 12 also
    #: hold one with outcome success per request that passed)
    REQUEST_GATED = "request.gated"
    #: a request that passed the gate is decided: its code and reason (`"gate": "passed"`)
    REQUEST_DECIDED = "request.decided"
    #: a taxpayer's information is disclosed: by a disclosing decision, or by a reviewer's
    #: approval (with its accounting record, in the same transaction)
    DISCLOSURE = "disclosure"
    #: the batch is answered: number of responses and the response file's digest
    BATCH_COMPLETED = "batch.completed"
    #: a batch already done is run again and its response file rewritten (the new digest)
    BATCH_RESPONSES_REWRITTEN = "batch.responses_rewritten"

    # -- review (API and pages) ------------------------------------------------------------------
    #: a reviewer claims a pending request, until the claim expires
    REVIEW_CLAIMED = "review.claimed"
    #: a reviewer decides a pending request (approve or deny; an approval adds a disclosure)
    REVIEW_DECIDED = "review.decided"

    # -- one request in process, and explanations (CLI) ------------------------------------------
    #: `matchgate lookup` answers one request (outcome failure when the gate rejects it)
    REQUEST_LOOKUP = "request.lookup"
    #: `matchgate explain` explains a stored decision
    DECISION_EXPLAINED = "decision.explained"

    # -- records officers and disclosure officers (CLI) ------------------------------------------
    #: the accounting of disclosures for a period is exported (`matchgate accounting export`)
    ACCOUNTING_EXPORTED = "accounting.exported"
    #: the disclosures to one taxpayer are looked up (`matchgate accounting taxpayer`)
    ACCOUNTING_TAXPAYER_QUERY = "accounting.taxpayer_query"
    #: a disclosure is flagged as a suspected incident (`matchgate incident flag`)
    INCIDENT_FLAGGED = "incident.flagged"
    #: a batch's data of one kind is purged at the end of its retention (`matchgate retention
    #: run`; one event per batch and kind)
    RETENTION_PURGED = "retention.purged"


class RetiredEventType:
    """Event types matchgate no longer writes, which logs recorded before session 11 hold and
    the consistency checker still reads (audit/consistency.py, audit/digests.py)."""

    #: one per request at intake (now batch.received's digest of the request_ids)
    REQUEST_RECEIVED = "request.received"
    #: one per request answered (now batch.completed's digest of the response file)
    REQUEST_RESPONDED = "request.responded"


def event_types(kind: type = EventType) -> dict[str, str]:
    """The constants of EventType (or RetiredEventType): name -> stored value."""
    return {name: value for name, value in vars(kind).items()
            if name.isupper() and isinstance(value, str)}


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """One thing that happened: who did it, in which role, from where, to what, and whether it
    succeeded. `details` must not hold a TIN or a name in clear (see matchgate.audit.redact)."""

    event_type: str
    actor: str
    role: str
    origin: str
    outcome: str = "success"
    batch_id: str | None = None
    request_id: str | None = None
    agreement_version: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.outcome not in OUTCOMES:
            raise ValueError(f"outcome must be 'success' or 'failure', not {self.outcome!r}")
        if not (self.event_type and self.actor and self.role and self.origin):
            for name in ("event_type", "actor", "role", "origin"):
                if not getattr(self, name):
                    raise ValueError(f"an audit event needs a non-empty {name}")
        if self.details:
            check_details(self.details)

    def properties(self) -> dict[str, Any]:
        """The event's fields as a plain dict (what the log stores besides seq, ts and hashes)."""
        return asdict(self)
