"""Rework tasks (kind, the payer's reasons and the denied codes) and the coding-caused
denials counted against the coder and pool whose codes were denied.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 09:00:22.588984
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "coding_denial",
        sa.Column("rework_task_id", sa.String(length=64), nullable=False),
        sa.Column("encounter_key", sa.String(length=140), nullable=False),
        sa.Column("vendor_id", sa.String(length=64), nullable=False),
        sa.Column("coder_id", sa.String(length=64), nullable=False),
        sa.Column("pool_id", sa.String(length=64), nullable=False),
        sa.Column("denied_task_id", sa.String(length=64), nullable=False),
        sa.Column("claim_id", sa.String(length=64), nullable=False),
        sa.Column("claim_version", sa.Integer(), nullable=False),
        sa.Column("codes", sa.String(length=200), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("rework_task_id"),
    )
    with op.batch_alter_table("coding_denial", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_coding_denial_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_coding_denial_coder_id"), ["coder_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_coding_denial_encounter_key"), ["encounter_key"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_coding_denial_pool_id"), ["pool_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_coding_denial_vendor_id"), ["vendor_id"], unique=False)

    with op.batch_alter_table("coding_task", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=10), nullable=False, server_default="coding")
        )
        batch_op.add_column(sa.Column("rework", sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("coding_task", schema=None) as batch_op:
        batch_op.drop_column("rework")
        batch_op.drop_column("kind")

    with op.batch_alter_table("coding_denial", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_coding_denial_vendor_id"))
        batch_op.drop_index(batch_op.f("ix_coding_denial_pool_id"))
        batch_op.drop_index(batch_op.f("ix_coding_denial_encounter_key"))
        batch_op.drop_index(batch_op.f("ix_coding_denial_coder_id"))
        batch_op.drop_index(batch_op.f("ix_coding_denial_at"))

    op.drop_table("coding_denial")
