"""Transparency log checkpoints, the accounting of disclosures (6103(p)(3)) and incidents.

- checkpoints: signed checkpoints (signed tree heads) over the audit events, append-only.
- disclosure_accounting: one row per disclosure; rows are never deleted, and the only column
  that may change is incident_id (set when a disclosure is flagged as suspected improper).
- incidents: suspected improper disclosures flagged by a reviewer or auditor, append-only.
- retention_purges: what retention purged, per batch and kind of data, append-only.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
#: columns of disclosure_accounting that no UPDATE may touch (all but incident_id)
ACCOUNTING_FIXED = ("id", "taxpayer_tin", "disclosed_at", "recipient_agency", "legal_basis",
                    "statutory_authority", "purpose", "request_id", "batch_id", "agreement_id",
                    "agreement_version", "approved_by", "disclosed_fields")
APPEND_ONLY = ("checkpoints", "incidents", "retention_purges")


def _sqlite_triggers() -> list[str]:
    out = []
    for table in APPEND_ONLY:
        for op_name in ("UPDATE", "DELETE"):
            out.append(f"""CREATE TRIGGER {table}_no_{op_name.lower()} BEFORE {op_name} ON {table}
                BEGIN SELECT RAISE(ABORT, '{table} is append-only: {op_name} refused'); END""")
    out.append("""CREATE TRIGGER disclosure_accounting_no_delete BEFORE DELETE ON
        disclosure_accounting BEGIN SELECT RAISE(ABORT,
        'disclosure_accounting is kept: DELETE refused'); END""")
    out.append(f"""CREATE TRIGGER disclosure_accounting_fixed BEFORE UPDATE OF
        {", ".join(ACCOUNTING_FIXED)} ON disclosure_accounting BEGIN SELECT RAISE(ABORT,
        'disclosure_accounting: only incident_id may change'); END""")
    return out


def _postgres_triggers() -> list[str]:
    out = []
    for table in APPEND_ONLY:
        out.append(f"""CREATE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table}
            FOR EACH ROW EXECUTE FUNCTION matchgate_audit_refuse()""")
        out.append(f"""CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
            FOR EACH STATEMENT EXECUTE FUNCTION matchgate_audit_refuse()""")
    out.append("""CREATE TRIGGER disclosure_accounting_no_delete BEFORE DELETE ON
        disclosure_accounting FOR EACH ROW EXECUTE FUNCTION matchgate_audit_refuse()""")
    out.append("""CREATE TRIGGER disclosure_accounting_no_truncate BEFORE TRUNCATE ON
        disclosure_accounting FOR EACH STATEMENT EXECUTE FUNCTION matchgate_audit_refuse()""")
    out.append(f"""CREATE TRIGGER disclosure_accounting_fixed BEFORE UPDATE OF
        {", ".join(ACCOUNTING_FIXED)} ON disclosure_accounting
        FOR EACH ROW EXECUTE FUNCTION matchgate_audit_refuse()""")
    return out


def upgrade() -> None:
    op.create_table(
        "checkpoints",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("tree_size", sa.BigInteger(), nullable=False),
        sa.Column("root", sa.String(64), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("right_edge", sa.Text(), nullable=False),
        sa.Column("reason", sa.String(256), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_checkpoints_tree_size", "checkpoints", ["tree_size"])
    op.create_table(
        "disclosure_accounting",
        sa.Column("id", SEQ, primary_key=True, autoincrement=True),
        sa.Column("taxpayer_tin", sa.String(16), nullable=False),
        sa.Column("disclosed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recipient_agency", sa.String(256), nullable=False),
        sa.Column("legal_basis", sa.String(64), nullable=False),
        sa.Column("statutory_authority", sa.String(256), nullable=True),
        sa.Column("purpose", sa.Text(), nullable=True),
        sa.Column("request_id", sa.String(256), nullable=False),
        sa.Column("batch_id", sa.String(128), nullable=False),
        sa.Column("agreement_id", sa.String(128), nullable=False),
        sa.Column("agreement_version", sa.String(64), nullable=False),
        sa.Column("approved_by", sa.String(256), nullable=False),
        sa.Column("disclosed_fields", sa.String(256), nullable=False),
        sa.Column("incident_id", sa.String(64), nullable=True),
        sa.UniqueConstraint("batch_id", "request_id", name="uq_disclosure_accounting_request"),
    )
    op.create_index("ix_disclosure_accounting_tin", "disclosure_accounting", ["taxpayer_tin"])
    op.create_index("ix_disclosure_accounting_disclosed_at", "disclosure_accounting",
                    ["disclosed_at"])
    op.create_table(
        "incidents",
        sa.Column("incident_id", sa.String(64), primary_key=True),
        sa.Column("batch_id", sa.String(128), nullable=False),
        sa.Column("request_id", sa.String(256), nullable=False),
        sa.Column("accounting_id", sa.BigInteger(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("flagged_by", sa.String(256), nullable=False),
        sa.Column("role", sa.String(64), nullable=False),
        sa.Column("flagged_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("report_due_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "retention_purges",
        sa.Column("batch_id", sa.String(128), primary_key=True),
        sa.Column("kind", sa.String(32), primary_key=True),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("retention_days", sa.Integer(), nullable=False),
        sa.Column("purged_at", sa.DateTime(timezone=True), nullable=False),
    )
    dialect = op.get_bind().dialect.name
    for statement in _postgres_triggers() if dialect == "postgresql" else _sqlite_triggers():
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for table in APPEND_ONLY:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
        op.execute("DROP TRIGGER IF EXISTS disclosure_accounting_no_delete")
        op.execute("DROP TRIGGER IF EXISTS disclosure_accounting_fixed")
    op.drop_table("retention_purges")
    op.drop_table("incidents")
    op.drop_index("ix_disclosure_accounting_disclosed_at", table_name="disclosure_accounting")
    op.drop_index("ix_disclosure_accounting_tin", table_name="disclosure_accounting")
    op.drop_table("disclosure_accounting")
    op.drop_index("ix_checkpoints_tree_size", table_name="checkpoints")
    op.drop_table("checkpoints")
