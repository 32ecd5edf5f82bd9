"""audits: blind re-code, reconciliation and scores; scorecard marks

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 09:22:48.329801
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("encounter_key", sa.String(length=140), nullable=False),
        sa.Column("hospital_id", sa.String(length=64), nullable=False),
        sa.Column("task_id", sa.String(length=64), nullable=False),
        sa.Column("coder_id", sa.String(length=64), nullable=False),
        sa.Column("vendor_id", sa.String(length=64), nullable=False),
        sa.Column("pool_id", sa.String(length=64), nullable=False),
        sa.Column("auditor_id", sa.String(length=64), nullable=True),
        sa.Column("auditor_vendor_id", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("rule", sa.String(length=30), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("credentials", sa.String(length=200), nullable=False),
        sa.Column("prefer_other_vendor", sa.Boolean(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recoded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("recode", sa.String(), nullable=True),
        sa.Column("final", sa.String(), nullable=True),
        sa.Column("decisions", sa.Text(), nullable=True),
        sa.Column("diagnoses_matched", sa.Integer(), nullable=True),
        sa.Column("diagnoses_errors", sa.Float(), nullable=True),
        sa.Column("procedures_matched", sa.Integer(), nullable=True),
        sa.Column("procedures_errors", sa.Float(), nullable=True),
        sa.Column("accuracy_percent", sa.Float(), nullable=True),
        sa.Column("record_accurate", sa.Boolean(), nullable=True),
        sa.Column("kinds", sa.String(length=400), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("audit", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_auditor_id"), ["auditor_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_coder_id"), ["coder_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_encounter_key"), ["encounter_key"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_hospital_id"), ["hospital_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_task_id"), ["task_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_vendor_id"), ["vendor_id"], unique=False)

    op.create_table(
        "scorecard_mark",
        sa.Column("id", sa.String(length=80), nullable=False),
        sa.Column("hospital_id", sa.String(length=64), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("marked_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("scorecard_mark")
    with op.batch_alter_table("audit", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_vendor_id"))
        batch_op.drop_index(batch_op.f("ix_audit_task_id"))
        batch_op.drop_index(batch_op.f("ix_audit_hospital_id"))
        batch_op.drop_index(batch_op.f("ix_audit_encounter_key"))
        batch_op.drop_index(batch_op.f("ix_audit_coder_id"))
        batch_op.drop_index(batch_op.f("ix_audit_auditor_id"))

    op.drop_table("audit")
