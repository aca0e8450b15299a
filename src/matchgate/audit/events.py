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
    """Event types used across matchgate (the log accepts any dotted lower-case name)."""

    BATCH_RECEIVED = "batch.received"
    BATCH_STARTED = "batch.started"
    BATCH_FINISHED = "batch.finished"
    BATCH_FAILED = "batch.failed"
    REQUEST_REJECTED = "request.rejected"
    REQUEST_DECIDED = "request.decided"
    REVIEW_CLAIMED = "review.claimed"
    REVIEW_DECIDED = "review.decided"
    DISCLOSURE = "disclosure.made"
    RESPONSE_READ = "response.read"
    AGREEMENT_CHANGED = "agreement.changed"
    ACCESS_DENIED = "access.denied"
    LOGIN = "auth.login"
    AUDIT_VERIFIED = "audit.verified"


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
