"""Claim versions: each claim's frequency code (1, 7 replacement, 8 void), the version it
replaces, and the payer's last answer classified by the denial triage; a payer's HTTP
endpoint.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 08:14:32.324552
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("claim", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("frequency", sa.String(length=1), nullable=False, server_default="1")
        )
        batch_op.add_column(sa.Column("replaces_claim_id", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("triage", sa.String(), nullable=False, server_default="[]"))
    with op.batch_alter_table("payer", schema=None) as batch_op:
        batch_op.add_column(sa.Column("endpoint", sa.String(length=300), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("payer", schema=None) as batch_op:
        batch_op.drop_column("endpoint")
    with op.batch_alter_table("claim", schema=None) as batch_op:
        batch_op.drop_column("triage")
        batch_op.drop_column("replaces_claim_id")
        batch_op.drop_column("frequency")
