"""Agreements put in force: each loaded version kept whole, the newest of an id in force.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "agreements",
        sa.Column("seq", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("agreement_id", sa.String(128), nullable=False),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("loaded_by", sa.String(256), nullable=False),
    )
    op.create_index("ix_agreements_agreement_id", "agreements", ["agreement_id"])


def downgrade() -> None:
    op.drop_index("ix_agreements_agreement_id", table_name="agreements")
    op.drop_table("agreements")
