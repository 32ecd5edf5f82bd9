"""baseline: the schema create_all made before migrations

Revision ID: 0001
Revises:
Create Date: 2026-11-29 05:25:19.278833
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "chart_access",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("coder_id", sa.String(length=64), nullable=False),
        sa.Column("task_id", sa.String(length=64), nullable=False),
        sa.Column("encounter_key", sa.String(length=140), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("chart_access", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_chart_access_coder_id"), ["coder_id"], unique=False)

    op.create_table(
        "coder",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("vendor_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("pools", sa.String(), nullable=False),
        sa.Column("credentials", sa.String(), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("api_key_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("coder", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_coder_api_key_hash"), ["api_key_hash"], unique=False)
        batch_op.create_index(batch_op.f("ix_coder_vendor_id"), ["vendor_id"], unique=False)

    op.create_table(
        "coding_task",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("encounter_key", sa.String(length=140), nullable=False),
        sa.Column("hospital_id", sa.String(length=64), nullable=False),
        sa.Column("vendor_id", sa.String(length=64), nullable=False),
        sa.Column("pool_id", sa.String(length=64), nullable=False),
        sa.Column("coder_id", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("chart", sa.Text(), nullable=False),
        sa.Column("codes", sa.String(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("coding_task", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_coding_task_coder_id"), ["coder_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_coding_task_encounter_key"), ["encounter_key"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_coding_task_pool_id"), ["pool_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_coding_task_vendor_id"), ["vendor_id"], unique=False)

    op.create_table(
        "outbox_event",
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("topic", sa.String(length=200), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("seq"),
        sa.UniqueConstraint("event_id"),
    )
    with op.batch_alter_table("outbox_event", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_outbox_event_published_at"), ["published_at"], unique=False
        )

    op.create_table(
        "processed_event",
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("consumer", sa.String(length=100), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("event_id", "consumer"),
    )


def downgrade() -> None:
    op.drop_table("processed_event")
    with op.batch_alter_table("outbox_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_event_published_at"))

    op.drop_table("outbox_event")
    with op.batch_alter_table("coding_task", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_coding_task_vendor_id"))
        batch_op.drop_index(batch_op.f("ix_coding_task_pool_id"))
        batch_op.drop_index(batch_op.f("ix_coding_task_encounter_key"))
        batch_op.drop_index(batch_op.f("ix_coding_task_coder_id"))

    op.drop_table("coding_task")
    with op.batch_alter_table("coder", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_coder_vendor_id"))
        batch_op.drop_index(batch_op.f("ix_coder_api_key_hash"))

    op.drop_table("coder")
    with op.batch_alter_table("chart_access", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_chart_access_coder_id"))

    op.drop_table("chart_access")
