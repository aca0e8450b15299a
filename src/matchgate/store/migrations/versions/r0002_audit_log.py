"""Audit log: audit_events (append-only, hash-chained), audit_head, store_meta, and the triggers
that refuse UPDATE and DELETE (and, on PostgreSQL, TRUNCATE) of audit events.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GENESIS_HASH = "0" * 64
SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

SQLITE_TRIGGERS = (
    """CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
       BEGIN SELECT RAISE(ABORT, 'audit_events is append-only: UPDATE refused'); END""",
    """CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
       BEGIN SELECT RAISE(ABORT, 'audit_events is append-only: DELETE refused'); END""",
    """CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head
       BEGIN SELECT RAISE(ABORT, 'audit_head cannot be deleted'); END""",
    """CREATE TRIGGER audit_head_forward_only BEFORE UPDATE ON audit_head
       WHEN NEW.last_seq < OLD.last_seq
       BEGIN SELECT RAISE(ABORT, 'audit_head can only move forward'); END""",
)

POSTGRES_TRIGGERS = (
    """CREATE FUNCTION matchgate_audit_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
           USING ERRCODE = 'insufficient_privilege';
       END $$""",
    """CREATE FUNCTION matchgate_audit_head_forward() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         IF NEW.last_seq < OLD.last_seq THEN
           RAISE EXCEPTION 'audit_head can only move forward'
             USING ERRCODE = 'insufficient_privilege';
         END IF;
         RETURN NEW;
       END $$""",
    """CREATE TRIGGER audit_events_no_change BEFORE UPDATE OR DELETE ON audit_events
       FOR EACH ROW EXECUTE FUNCTION matchgate_audit_refuse()""",
    """CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
       FOR EACH STATEMENT EXECUTE FUNCTION matchgate_audit_refuse()""",
    """CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head
       FOR EACH ROW EXECUTE FUNCTION matchgate_audit_refuse()""",
    """CREATE TRIGGER audit_head_no_truncate BEFORE TRUNCATE ON audit_head
       FOR EACH STATEMENT EXECUTE FUNCTION matchgate_audit_refuse()""",
    """CREATE TRIGGER audit_head_forward_only BEFORE UPDATE ON audit_head
       FOR EACH ROW EXECUTE FUNCTION matchgate_audit_head_forward()""",
)


def upgrade() -> None:
    op.create_table(
        "audit_events",
        sa.Column("seq", SEQ, primary_key=True, autoincrement=False),
        sa.Column("ts", sa.String(40), nullable=False),
        sa.Column("actor", sa.String(256), nullable=False),
        sa.Column("role", sa.String(64), nullable=False),
        sa.Column("origin", sa.String(256), nullable=False),
        sa.Column("event_type", sa.String(128), nullable=False),
        sa.Column("batch_id", sa.String(128), nullable=True),
        sa.Column("request_id", sa.String(256), nullable=True),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("agreement_version", sa.String(64), nullable=True),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.CheckConstraint("outcome IN ('success', 'failure')", name="ck_audit_events_outcome"),
    )
    head = op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("last_hash", sa.String(64), nullable=False),
        sa.CheckConstraint("id = 1", name="ck_audit_head_single_row"),
    )
    op.bulk_insert(head, [{"id": 1, "last_seq": 0, "last_hash": GENESIS_HASH}])
    op.create_table(
        "store_meta",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text(), nullable=False),
    )
    dialect = op.get_bind().dialect.name
    for statement in POSTGRES_TRIGGERS if dialect == "postgresql" else SQLITE_TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for name in ("audit_events_no_update", "audit_events_no_delete", "audit_head_no_delete",
                     "audit_head_forward_only"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_table("store_meta")
    op.drop_table("audit_head")
    op.drop_table("audit_events")
    if dialect == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS matchgate_audit_refuse()")
        op.execute("DROP FUNCTION IF EXISTS matchgate_audit_head_forward()")
