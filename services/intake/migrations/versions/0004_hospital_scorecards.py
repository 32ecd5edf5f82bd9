"""hospital scorecards from coding

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 08:26:59.615581
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
        "hospital_scorecard",
        sa.Column("hospital_id", sa.String(length=64), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("as_of", sa.DateTime(timezone=True), nullable=False),
        sa.Column("vendors", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("hospital_id", "period"),
    )


def downgrade() -> None:
    op.drop_table("hospital_scorecard")
