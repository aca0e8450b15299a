"""The service: users and API tokens, uploaded batches queued for work, reviews and release.

Revision ID: 0005
Revises: 0003 (temporarily; 0004 once it is merged)
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_DOC = sa.JSON().with_variant(JSONB(), "postgresql")
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("name", sa.String(256), primary_key=True),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("agency", sa.String(256), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.CheckConstraint("role IN ('requester', 'reviewer', 'disclosure_officer', 'auditor')",
                           name="ck_users_role"),
    )
    op.create_table(
        "api_tokens",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("user_name", sa.String(256), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("expires_at", TIMESTAMP, nullable=True),
        sa.ForeignKeyConstraint(["user_name"], ["users.name"], name="fk_api_tokens_user"),
    )
    op.create_index("ix_api_tokens_user", "api_tokens", ["user_name"])
    op.create_table(
        "batch_jobs",
        sa.Column("batch_id", sa.String(128), primary_key=True),
        sa.Column("agency", sa.String(256), nullable=False),
        sa.Column("agreement_id", sa.String(128), nullable=False),
        sa.Column("agreement_version", sa.String(64), nullable=False),
        sa.Column("submitted_by", sa.String(256), nullable=False),
        sa.Column("idempotency_key", sa.String(256), nullable=True),
        sa.Column("source_name", sa.String(256), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("manifest", JSON_DOC, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("worker", sa.String(256), nullable=True),
        sa.Column("lease_until", TIMESTAMP, nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("release", sa.String(32), nullable=False),
        sa.Column("release_by", sa.String(256), nullable=True),
        sa.Column("release_reason", sa.Text(), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("finished_at", TIMESTAMP, nullable=True),
        sa.CheckConstraint("status IN ('queued', 'running', 'done', 'failed')",
                           name="ck_batch_jobs_status"),
        sa.CheckConstraint("release IN ('not_required', 'awaiting_signoff', 'released', "
                           "'refused')", name="ck_batch_jobs_release"),
    )
    op.create_index("ix_batch_jobs_status", "batch_jobs", ["status"])
    op.create_index("uq_batch_jobs_idempotency", "batch_jobs", ["agency", "idempotency_key"],
                    unique=True)
    op.create_table(
        "reviews",
        sa.Column("batch_id", sa.String(128), nullable=False),
        sa.Column("request_id", sa.String(256), nullable=False),
        sa.Column("claimed_by", sa.String(256), nullable=True),
        sa.Column("claim_until", TIMESTAMP, nullable=True),
        sa.Column("outcome", sa.String(16), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("reviewer", sa.String(256), nullable=True),
        sa.Column("released", JSON_DOC, nullable=True),
        sa.Column("decided_at", TIMESTAMP, nullable=True),
        sa.PrimaryKeyConstraint("batch_id", "request_id", name="pk_reviews"),
        sa.ForeignKeyConstraint(["batch_id", "request_id"],
                                ["decisions.batch_id", "decisions.request_id"],
                                name="fk_reviews_decision"),
        sa.CheckConstraint("outcome IS NULL OR outcome IN ('approved', 'denied')",
                           name="ck_reviews_outcome"),
    )


def downgrade() -> None:
    op.drop_table("reviews")
    op.drop_index("uq_batch_jobs_idempotency", table_name="batch_jobs")
    op.drop_index("ix_batch_jobs_status", table_name="batch_jobs")
    op.drop_table("batch_jobs")
    op.drop_index("ix_api_tokens_user", table_name="api_tokens")
    op.drop_table("api_tokens")
    op.drop_table("users")
