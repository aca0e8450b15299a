"""The operational store's tables as SQLAlchemy 2 declarative models.

The migrations (matchgate/store/migrations/versions) are the source of truth for the schema; these
models describe the same tables for queries, and a test checks that the two agree. Bulk paths use
the Core tables (`Batch.__table__` and so on, exported below as BATCHES, REQUESTS, ...).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from matchgate.store.types import JSONDoc, UTCDateTime

BATCH_STATUSES: tuple[str, ...] = ("received", "running", "done", "failed")
OUTCOMES: tuple[str, ...] = ("success", "failure")
#: SQLite needs INTEGER (not BIGINT) for a primary key to be the fast rowid alias.
SeqType = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    pass


class Batch(Base):
    __tablename__ = "batches"
    __table_args__ = (
        CheckConstraint("status IN ('received', 'running', 'done', 'failed')",
                        name="ck_batches_status"),
        Index("ix_batches_agreement_id", "agreement_id"),
    )

    batch_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    agreement_id: Mapped[str] = mapped_column(String(128))
    agreement_version: Mapped[str] = mapped_column(String(64))
    manifest: Mapped[dict[str, Any]] = mapped_column(JSONDoc)
    source_name: Mapped[str] = mapped_column(String(1024))
    row_count: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    submitted_by: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    master_version: Mapped[str | None] = mapped_column(String(128), nullable=True)


class Request(Base):
    __tablename__ = "requests"
    __table_args__ = (Index("ix_requests_dedupe_key", "dedupe_key"),)

    batch_id: Mapped[str] = mapped_column(
        String(128), ForeignKey("batches.batch_id", name="fk_requests_batch"), primary_key=True)
    request_id: Mapped[str] = mapped_column(String(256), primary_key=True)
    row_number: Mapped[int] = mapped_column(Integer)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONDoc)
    dedupe_key: Mapped[str | None] = mapped_column(String(128), nullable=True)


class Decision(Base):
    """One answer per request: the primary key makes a second answer impossible."""

    __tablename__ = "decisions"
    __table_args__ = (
        ForeignKeyConstraint(["batch_id", "request_id"],
                             ["requests.batch_id", "requests.request_id"],
                             name="fk_decisions_request"),
    )

    batch_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    request_id: Mapped[str] = mapped_column(String(256), primary_key=True)
    code: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(String(128), nullable=True)
    matched_tin: Mapped[str | None] = mapped_column(String(16), nullable=True)
    match_probability: Mapped[float | None] = mapped_column(Float, nullable=True)
    runner_up_probability: Mapped[float | None] = mapped_column(Float, nullable=True)
    disclosed: Mapped[dict[str, Any]] = mapped_column(JSONDoc)
    evidence: Mapped[dict[str, Any]] = mapped_column(JSONDoc)
    agreement_version: Mapped[str] = mapped_column(String(64))
    master_version: Mapped[str | None] = mapped_column(String(128), nullable=True)
    decided_by: Mapped[str] = mapped_column(String(256))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AuditEventRow(Base):
    """The append-only, hash-chained audit log (see matchgate.audit.canonical for the hash)."""

    __tablename__ = "audit_events"
    __table_args__ = (
        CheckConstraint("outcome IN ('success', 'failure')", name="ck_audit_events_outcome"),
    )

    seq: Mapped[int] = mapped_column(SeqType, primary_key=True, autoincrement=False)
    ts: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(64))
    origin: Mapped[str] = mapped_column(String(256))
    event_type: Mapped[str] = mapped_column(String(128))
    batch_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    request_id: Mapped[str | None] = mapped_column(String(256), nullable=True)
    outcome: Mapped[str] = mapped_column(String(16))
    agreement_version: Mapped[str | None] = mapped_column(String(64), nullable=True)
    details: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """One row: the last sequence number and hash, written in the same transaction as the events."""

    __tablename__ = "audit_head"
    __table_args__ = (CheckConstraint("id = 1", name="ck_audit_head_single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_seq: Mapped[int] = mapped_column(BigInteger)
    last_hash: Mapped[str] = mapped_column(String(64))


class StoreMeta(Base):
    """Small named values that belong to this store (for instance its fallback audit key)."""

    __tablename__ = "store_meta"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class AgreementRow(Base):
    """An agreement as loaded: its text and content version. The newest row of an id is in
    force; older rows stay, so every decision's agreement_version can be read back."""

    __tablename__ = "agreements"
    __table_args__ = (Index("ix_agreements_agreement_id", "agreement_id"),)

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    agreement_id: Mapped[str] = mapped_column(String(128))
    version: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    loaded_by: Mapped[str] = mapped_column(String(256))


JOB_STATUSES: tuple[str, ...] = ("queued", "running", "done", "failed")
RELEASE_STATES: tuple[str, ...] = ("not_required", "awaiting_signoff", "released", "refused")
ROLES: tuple[str, ...] = ("requester", "reviewer", "disclosure_officer", "auditor")


class User(Base):
    """A person or system that calls the service, in one role; requesters belong to an agency."""

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role IN ('requester', 'reviewer', 'disclosure_officer', 'auditor')",
                        name="ck_users_role"),
    )

    name: Mapped[str] = mapped_column(String(256), primary_key=True)
    role: Mapped[str] = mapped_column(String(32))
    agency: Mapped[str | None] = mapped_column(String(256), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    disabled: Mapped[bool] = mapped_column(Boolean)


class ApiToken(Base):
    """An API token: only the SHA-256 of the token is kept."""

    __tablename__ = "api_tokens"
    __table_args__ = (Index("ix_api_tokens_user", "user_name"),)

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_name: Mapped[str] = mapped_column(
        String(256), ForeignKey("users.name", name="fk_api_tokens_user"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class RateLimitWindow(Base):
    """How many API calls a bucket (a token's, an agency's) made in one window of the limiter."""

    __tablename__ = "rate_limit_windows"

    bucket: Mapped[str] = mapped_column(String(320), primary_key=True)
    window_start: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    hits: Mapped[int] = mapped_column(Integer)


class BatchJob(Base):
    """A batch uploaded through the API: its files, its place in the work queue, its release."""

    __tablename__ = "batch_jobs"
    __table_args__ = (
        CheckConstraint("status IN ('queued', 'running', 'done', 'failed')",
                        name="ck_batch_jobs_status"),
        CheckConstraint("release IN ('not_required', 'awaiting_signoff', 'released', 'refused')",
                        name="ck_batch_jobs_release"),
        Index("ix_batch_jobs_status", "status"),
        Index("uq_batch_jobs_idempotency", "agency", "idempotency_key", unique=True),
    )

    batch_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    agency: Mapped[str] = mapped_column(String(256))
    agreement_id: Mapped[str] = mapped_column(String(128))
    agreement_version: Mapped[str] = mapped_column(String(64))
    submitted_by: Mapped[str] = mapped_column(String(256))
    idempotency_key: Mapped[str | None] = mapped_column(String(256), nullable=True)
    source_name: Mapped[str] = mapped_column(String(256))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    manifest: Mapped[dict[str, Any]] = mapped_column(JSONDoc)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer)
    worker: Mapped[str | None] = mapped_column(String(256), nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    release: Mapped[str] = mapped_column(String(32))
    release_by: Mapped[str | None] = mapped_column(String(256), nullable=True)
    release_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Review(Base):
    """A person's review of a request in the review band: a claim that lapses, then one decision.
    The decisions table keeps the machine's PENDING_REVIEW; the released answer combines both."""

    __tablename__ = "reviews"
    __table_args__ = (
        ForeignKeyConstraint(["batch_id", "request_id"],
                             ["decisions.batch_id", "decisions.request_id"],
                             name="fk_reviews_decision"),
        CheckConstraint("outcome IS NULL OR outcome IN ('approved', 'denied')",
                        name="ck_reviews_outcome"),
    )

    batch_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    request_id: Mapped[str] = mapped_column(String(256), primary_key=True)
    claimed_by: Mapped[str | None] = mapped_column(String(256), nullable=True)
    claim_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    outcome: Mapped[str | None] = mapped_column(String(16), nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    reviewer: Mapped[str | None] = mapped_column(String(256), nullable=True)
    released: Mapped[dict[str, Any] | None] = mapped_column(JSONDoc, nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class CheckpointRow(Base):
    """A signed checkpoint over the first tree_size audit events (append-only); right_edge is
    the tree's compact range (hex roots of its perfect subtrees) so the next one extends it."""

    __tablename__ = "checkpoints"
    __table_args__ = (Index("ix_checkpoints_tree_size", "tree_size"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tree_size: Mapped[int] = mapped_column(BigInteger)
    root: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(Text)
    right_edge: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DisclosureAccountingRow(Base):
    """One row per disclosure (26 U.S.C. 6103(p)(3)); only incident_id may ever change."""

    __tablename__ = "disclosure_accounting"
    __table_args__ = (
        UniqueConstraint("batch_id", "request_id", name="uq_disclosure_accounting_request"),
        Index("ix_disclosure_accounting_tin", "taxpayer_tin"),
        Index("ix_disclosure_accounting_disclosed_at", "disclosed_at"),
    )

    id: Mapped[int] = mapped_column(SeqType, primary_key=True, autoincrement=True)
    taxpayer_tin: Mapped[str] = mapped_column(String(16))
    disclosed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recipient_agency: Mapped[str] = mapped_column(String(256))
    legal_basis: Mapped[str] = mapped_column(String(64))
    statutory_authority: Mapped[str | None] = mapped_column(String(256), nullable=True)
    purpose: Mapped[str | None] = mapped_column(Text, nullable=True)
    request_id: Mapped[str] = mapped_column(String(256))
    batch_id: Mapped[str] = mapped_column(String(128))
    agreement_id: Mapped[str] = mapped_column(String(128))
    agreement_version: Mapped[str] = mapped_column(String(64))
    approved_by: Mapped[str] = mapped_column(String(256))
    disclosed_fields: Mapped[str] = mapped_column(String(256))
    incident_id: Mapped[str | None] = mapped_column(String(64), nullable=True)


class IncidentRow(Base):
    """A disclosure flagged as suspected improper (append-only)."""

    __tablename__ = "incidents"

    incident_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    batch_id: Mapped[str] = mapped_column(String(128))
    request_id: Mapped[str] = mapped_column(String(256))
    accounting_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    reason: Mapped[str] = mapped_column(Text)
    flagged_by: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(64))
    flagged_at: Mapped[datetime] = mapped_column(UTCDateTime)
    report_due_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RetentionPurge(Base):
    """What retention purged: one row per batch and kind of data (append-only)."""

    __tablename__ = "retention_purges"

    batch_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    rows: Mapped[int] = mapped_column(Integer)
    retention_days: Mapped[int] = mapped_column(Integer)
    purged_at: Mapped[datetime] = mapped_column(UTCDateTime)


BATCHES = cast(Table, Batch.__table__)
REQUESTS = cast(Table, Request.__table__)
DECISIONS = cast(Table, Decision.__table__)
AUDIT_EVENTS = cast(Table, AuditEventRow.__table__)
AUDIT_HEAD = cast(Table, AuditHead.__table__)
STORE_META = cast(Table, StoreMeta.__table__)
AGREEMENTS = cast(Table, AgreementRow.__table__)
USERS = cast(Table, User.__table__)
API_TOKENS = cast(Table, ApiToken.__table__)
RATE_LIMIT_WINDOWS = cast(Table, RateLimitWindow.__table__)
BATCH_JOBS = cast(Table, BatchJob.__table__)
REVIEWS = cast(Table, Review.__table__)
CHECKPOINTS = cast(Table, CheckpointRow.__table__)
DISCLOSURE_ACCOUNTING = cast(Table, DisclosureAccountingRow.__table__)
INCIDENTS = cast(Table, IncidentRow.__table__)
RETENTION_PURGES = cast(Table, RetentionPurge.__table__)
