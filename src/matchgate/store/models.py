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
    CheckConstraint,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
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
CHECKPOINTS = cast(Table, CheckpointRow.__table__)
DISCLOSURE_ACCOUNTING = cast(Table, DisclosureAccountingRow.__table__)
INCIDENTS = cast(Table, IncidentRow.__table__)
RETENTION_PURGES = cast(Table, RetentionPurge.__table__)
