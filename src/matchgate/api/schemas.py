"""Request and response bodies of the API."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from matchgate.intake import Manifest


class Me(BaseModel):
    name: str
    role: str
    agency: str | None


class BatchStatus(BaseModel):
    batch_id: str
    agreement_id: str
    source_name: str
    status: str
    release: str
    rows: int | None
    decided: int
    progress: float
    error: str | None
    submitted_by: str
    created_at: datetime
    finished_at: datetime | None


class BatchSummary(BatchStatus):
    codes: dict[str, int]
    reasons: dict[str, int]
    in_review: int
    unusual: list[str]


class Responses(BaseModel):
    batch_id: str
    columns: list[str]
    rows: list[dict[str, str | None]]


class SingleRequest(BaseModel):
    """One request for the synchronous path: the manifest's fields and the request's."""

    model_config = ConfigDict(extra="forbid")

    manifest: Manifest
    request: dict[str, str | None] = Field(description="request file columns (request_id, "
                                                       "first_name, last_name, street, ...)")


class SingleAnswer(BaseModel):
    batch_id: str
    status: str
    release: str
    response: dict[str, str | None] | None


class ReleaseDecision(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    approve: bool
    reason: str = Field(min_length=1, max_length=2000)


class ReviewItem(BaseModel):
    batch_id: str
    request_id: str
    reason: str | None
    match_probability: float | None
    runner_up_probability: float | None
    claimed_by: str | None
    claim_until: datetime | None
    claimed: bool


class ReviewQueueView(BaseModel):
    items: list[ReviewItem]
    counts: dict[str, int]


class Claim(BaseModel):
    batch_id: str
    request_id: str
    claimed_by: str
    claim_until: datetime


class FieldPair(BaseModel):
    field: str
    request: str | None
    candidate: str | None
    differs: bool


class Evidence(BaseModel):
    comparison: str
    match_weight: float | None
    gamma: int | None


class CandidateView(BaseModel):
    """One candidate the match considered, beside the request (rank 1 is the best)."""

    rank: int
    tin_last4: str
    match_probability: float | None
    match_weight: float | None
    fields: list[FieldPair]
    evidence: list[Evidence]


class ReviewDetail(BaseModel):
    batch_id: str
    request_id: str
    reason: str | None
    match_probability: float | None
    runner_up_probability: float | None
    claimed_by: str | None
    claim_until: datetime | None
    outcome: str | None
    review_reason: str | None
    reviewer: str | None
    candidate_tin_last4: str | None
    fields: list[FieldPair]
    evidence: list[Evidence]
    candidates: list[CandidateView] = Field(
        description="each candidate considered, best first (at most five), beside the request")


class ReviewDecision(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    outcome: Literal["approved", "denied"]
    reason: str = Field(min_length=1, max_length=2000)


class Released(BaseModel):
    code: str
    reason: str
    disclosed: dict[str, str | None]


class AuditEventView(BaseModel):
    seq: int
    ts: str
    actor: str
    role: str
    event_type: str
    batch_id: str | None
    request_id: str | None
    outcome: str
    details: str


class ChainStatus(BaseModel):
    ok: bool
    events: int
    message: str
