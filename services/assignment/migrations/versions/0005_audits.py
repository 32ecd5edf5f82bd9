"""audit sampling policies and completed audits

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 09:22:46.306951
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
        "audit_policy",
        sa.Column("pool_id", sa.String(length=64), nullable=False),
        sa.Column("hospital_id", sa.String(length=64), nullable=False),
        sa.Column("policy", sa.String(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("pool_id", "hospital_id"),
    )
    op.create_table(
        "audit_result",
        sa.Column("audit_id", sa.String(length=64), nullable=False),
        sa.Column("task_id", sa.String(length=64), nullable=False),
        sa.Column("encounter_key", sa.String(length=140), nullable=False),
        sa.Column("coder_id", sa.String(length=64), nullable=False),
        sa.Column("matched", sa.Integer(), nullable=False),
        sa.Column("errors", sa.Float(), nullable=False),
        sa.Column("completed", sa.String(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("audit_id"),
    )
    with op.batch_alter_table("audit_result", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_result_coder_id"), ["coder_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_audit_result_encounter_key"), ["encounter_key"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_audit_result_task_id"), ["task_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("audit_result", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_result_task_id"))
        batch_op.drop_index(batch_op.f("ix_audit_result_encounter_key"))
        batch_op.drop_index(batch_op.f("ix_audit_result_coder_id"))

    op.drop_table("audit_result")
    op.drop_table("audit_policy")
