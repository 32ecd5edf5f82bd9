"""A pool's rework SLA: how long its coder has to rework a coding-caused denial (none: the
pool's SLA).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 08:59:27.310129
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("vendor_pool", schema=None) as batch_op:
        batch_op.add_column(sa.Column("rework_sla_seconds", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("vendor_pool", schema=None) as batch_op:
        batch_op.drop_column("rework_sla_seconds")
