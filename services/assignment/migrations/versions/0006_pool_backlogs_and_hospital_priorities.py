"""Pools' backlogs: encounters waiting for capacity (a row per pool that may take them, held
once offered a slot), each pool's fair clock across hospitals, and hospitals' priorities.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 12:25:16.776764
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "hospital_priority",
        sa.Column("hospital_id", sa.String(length=64), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("hospital_id"),
    )
    op.create_table(
        "pool_backlog",
        sa.Column("encounter_key", sa.String(length=140), nullable=False),
        sa.Column("pool_id", sa.String(length=64), nullable=False),
        sa.Column("hospital_id", sa.String(length=64), nullable=False),
        sa.Column("dnfb_on", sa.Date(), nullable=False),
        sa.Column("sla_due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("enqueued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("offered_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("encounter_key", "pool_id"),
    )
    with op.batch_alter_table("pool_backlog", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_pool_backlog_hospital_id"), ["hospital_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_pool_backlog_offered_at"), ["offered_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_pool_backlog_pool_id"), ["pool_id"], unique=False)

    op.create_table(
        "pool_backlog_turn",
        sa.Column("pool_id", sa.String(length=64), nullable=False),
        sa.Column("hospital_id", sa.String(length=64), nullable=False),
        sa.Column("finish", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("pool_id", "hospital_id"),
    )


def downgrade() -> None:
    op.drop_table("pool_backlog_turn")
    with op.batch_alter_table("pool_backlog", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pool_backlog_pool_id"))
        batch_op.drop_index(batch_op.f("ix_pool_backlog_offered_at"))
        batch_op.drop_index(batch_op.f("ix_pool_backlog_hospital_id"))

    op.drop_table("pool_backlog")
    op.drop_table("hospital_priority")
