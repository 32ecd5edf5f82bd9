"""returned encounters: the reason the coder gave

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 07:18:39.535365
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("encounter", schema=None) as batch_op:
        batch_op.add_column(sa.Column("return_reason", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("encounter", schema=None) as batch_op:
        batch_op.drop_column("return_reason")
