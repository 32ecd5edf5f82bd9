"""coding returns: tasks a coder sent back to the hospital

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 07:18:42.065033
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "coding_return",
        sa.Column("task_id", sa.String(length=64), nullable=False),
        sa.Column("encounter_key", sa.String(length=140), nullable=False),
        sa.Column("coder_id", sa.String(length=64), nullable=False),
        sa.Column("returned", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("task_id"),
    )
    with op.batch_alter_table("coding_return", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_coding_return_encounter_key"), ["encounter_key"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("coding_return", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_coding_return_encounter_key"))

    op.drop_table("coding_return")
