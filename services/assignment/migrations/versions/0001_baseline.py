"""baseline: the schema create_all made before migrations

Revision ID: 0001
Revises:
Create Date: 2026-11-29 05:25:18.672820
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
        "coding_submission",
        sa.Column("task_id", sa.String(length=64), nullable=False),
        sa.Column("encounter_key", sa.String(length=140), nullable=False),
        sa.Column("coder_id", sa.String(length=64), nullable=False),
        sa.Column("submitted", sa.String(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("task_id"),
    )
    with op.batch_alter_table("coding_submission", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_coding_submission_encounter_key"), ["encounter_key"], unique=False
        )

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
        "pool_task",
        sa.Column("task_id", sa.String(length=64), nullable=False),
        sa.Column("encounter_key", sa.String(length=140), nullable=False),
        sa.Column("pool_id", sa.String(length=64), nullable=False),
        sa.Column("open", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("task_id"),
    )
    with op.batch_alter_table("pool_task", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_pool_task_encounter_key"), ["encounter_key"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_pool_task_pool_id"), ["pool_id"], unique=False)

    op.create_table(
        "processed_event",
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("consumer", sa.String(length=100), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("event_id", "consumer"),
    )
    op.create_table(
        "routed_encounter",
        sa.Column("encounter_key", sa.String(length=140), nullable=False),
        sa.Column("hospital_id", sa.String(length=64), nullable=False),
        sa.Column("received", sa.Text(), nullable=False),
        sa.Column("pool_id", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=30), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("encounter_key"),
    )
    with op.batch_alter_table("routed_encounter", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_routed_encounter_hospital_id"), ["hospital_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_routed_encounter_pool_id"), ["pool_id"], unique=False)

    op.create_table(
        "vendor_pool",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("vendor_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("credentials", sa.String(), nullable=False),
        sa.Column("encounter_classes", sa.String(), nullable=False),
        sa.Column("hospitals", sa.String(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("sla_seconds", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("vendor_pool", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_vendor_pool_vendor_id"), ["vendor_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("vendor_pool", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_vendor_pool_vendor_id"))

    op.drop_table("vendor_pool")
    with op.batch_alter_table("routed_encounter", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_routed_encounter_pool_id"))
        batch_op.drop_index(batch_op.f("ix_routed_encounter_hospital_id"))

    op.drop_table("routed_encounter")
    op.drop_table("processed_event")
    with op.batch_alter_table("pool_task", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pool_task_pool_id"))
        batch_op.drop_index(batch_op.f("ix_pool_task_encounter_key"))

    op.drop_table("pool_task")
    with op.batch_alter_table("outbox_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_event_published_at"))

    op.drop_table("outbox_event")
    with op.batch_alter_table("coding_submission", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_coding_submission_encounter_key"))

    op.drop_table("coding_submission")
