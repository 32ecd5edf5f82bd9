"""hospital scorecards from coding

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 09:22:50.442085
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
        "hospital_scorecard",
        sa.Column("hospital_id", sa.String(length=64), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("as_of", sa.DateTime(timezone=True), nullable=False),
        sa.Column("vendors", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("hospital_id", "period"),
    )


def downgrade() -> None:
    op.drop_table("hospital_scorecard")
