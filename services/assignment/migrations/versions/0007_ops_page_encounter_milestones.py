"""ops page: encounter milestones

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 12:25:25.496214
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "encounter_milestone",
        sa.Column("encounter_key", sa.String(length=140), nullable=False),
        sa.Column("hospital_id", sa.String(length=64), nullable=False),
        sa.Column("encounter_class", sa.String(length=20), nullable=False),
        sa.Column("discharged_at", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("coded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("billed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed", sa.String(length=20), nullable=True),
        sa.PrimaryKeyConstraint("encounter_key"),
    )
    with op.batch_alter_table("encounter_milestone", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_encounter_milestone_billed_at"), ["billed_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_encounter_milestone_coded_at"), ["coded_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_encounter_milestone_hospital_id"), ["hospital_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("encounter_milestone", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_encounter_milestone_hospital_id"))
        batch_op.drop_index(batch_op.f("ix_encounter_milestone_coded_at"))
        batch_op.drop_index(batch_op.f("ix_encounter_milestone_billed_at"))

    op.drop_table("encounter_milestone")
