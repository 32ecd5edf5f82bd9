"""chart reads move to the PHI access log

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 07:44:21.995060
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Chart reads are PHI access records now (intake's access log). The reads recorded before
    # are audit evidence: kept, read-only, under a retired name the models no longer map.
    op.rename_table("chart_access", "retired_chart_access")


def downgrade() -> None:
    op.rename_table("retired_chart_access", "chart_access")
