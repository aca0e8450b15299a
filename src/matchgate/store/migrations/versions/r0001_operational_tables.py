"""Operational tables: batches, requests, decisions.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_DOC = sa.JSON().with_variant(JSONB(), "postgresql")
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "batches",
        sa.Column("batch_id", sa.String(128), primary_key=True),
        sa.Column("agreement_id", sa.String(128), nullable=False),
        sa.Column("agreement_version", sa.String(64), nullable=False),
        sa.Column("manifest", JSON_DOC, nullable=False),
        sa.Column("source_name", sa.String(1024), nullable=False),
        sa.Column("row_count", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("submitted_by", sa.String(256), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("finished_at", TIMESTAMP, nullable=True),
        sa.Column("master_version", sa.String(128), nullable=True),
        sa.CheckConstraint("status IN ('received', 'running', 'done', 'failed')",
                           name="ck_batches_status"),
    )
    op.create_index("ix_batches_agreement_id", "batches", ["agreement_id"])
    op.create_table(
        "requests",
        sa.Column("batch_id", sa.String(128), nullable=False),
        sa.Column("request_id", sa.String(256), nullable=False),
        sa.Column("row_number", sa.Integer(), nullable=False),
        sa.Column("payload", JSON_DOC, nullable=False),
        sa.Column("dedupe_key", sa.String(128), nullable=True),
        sa.PrimaryKeyConstraint("batch_id", "request_id", name="pk_requests"),
        sa.ForeignKeyConstraint(["batch_id"], ["batches.batch_id"], name="fk_requests_batch"),
    )
    op.create_index("ix_requests_dedupe_key", "requests", ["dedupe_key"])
    op.create_table(
        "decisions",
        sa.Column("batch_id", sa.String(128), nullable=False),
        sa.Column("request_id", sa.String(256), nullable=False),
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column("reason", sa.String(128), nullable=True),
        sa.Column("matched_tin", sa.String(16), nullable=True),
        sa.Column("match_probability", sa.Float(), nullable=True),
        sa.Column("runner_up_probability", sa.Float(), nullable=True),
        sa.Column("disclosed", JSON_DOC, nullable=False),
        sa.Column("evidence", JSON_DOC, nullable=False),
        sa.Column("agreement_version", sa.String(64), nullable=False),
        sa.Column("master_version", sa.String(128), nullable=True),
        sa.Column("decided_by", sa.String(256), nullable=False),
        sa.Column("decided_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("batch_id", "request_id", name="pk_decisions"),
        sa.ForeignKeyConstraint(["batch_id", "request_id"],
                                ["requests.batch_id", "requests.request_id"],
                                name="fk_decisions_request"),
    )


def downgrade() -> None:
    op.drop_table("decisions")
    op.drop_index("ix_requests_dedupe_key", table_name="requests")
    op.drop_table("requests")
    op.drop_index("ix_batches_agreement_id", table_name="batches")
    op.drop_table("batches")
