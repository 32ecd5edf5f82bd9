"""baseline: the schema create_all made before migrations

Revision ID: 0001
Revises:
Create Date: 2026-11-29 05:25:19.896754
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
        "claim",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("encounter_key", sa.String(length=140), nullable=False),
        sa.Column("hospital_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("patient_control_number", sa.String(length=20), nullable=False),
        sa.Column("claim_type", sa.String(length=20), nullable=False),
        sa.Column("payer_id", sa.String(length=80), nullable=False),
        sa.Column("total_charge", sa.String(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.String(), nullable=False),
        sa.Column("findings", sa.String(), nullable=False),
        sa.Column("x12", sa.Text(), nullable=False),
        sa.Column("interchange_control_number", sa.Integer(), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("paid", sa.String(), nullable=True),
        sa.Column("remittance", sa.String(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("encounter_key", "version"),
        sa.UniqueConstraint("patient_control_number"),
    )
    with op.batch_alter_table("claim", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_claim_encounter_key"), ["encounter_key"], unique=False)
        batch_op.create_index(batch_op.f("ix_claim_hospital_id"), ["hospital_id"], unique=False)

    op.create_table(
        "claim_transition",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("claim_id", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("target", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.String(), nullable=False),
        sa.Column("evidence", sa.String(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("claim_transition", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_claim_transition_claim_id"), ["claim_id"], unique=False
        )

    op.create_table(
        "control_counter",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
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
        "payer",
        sa.Column("payer_id", sa.String(length=80), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("claim_types", sa.String(), nullable=False),
        sa.Column("receiver_id", sa.String(length=15), nullable=False),
        sa.Column("simulator", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("payer_id"),
    )
    op.create_table(
        "payer_response",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("claim_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("x12", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("payer_response", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payer_response_claim_id"), ["claim_id"], unique=False)

    op.create_table(
        "processed_event",
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("consumer", sa.String(length=100), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("event_id", "consumer"),
    )


def downgrade() -> None:
    op.drop_table("processed_event")
    with op.batch_alter_table("payer_response", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payer_response_claim_id"))

    op.drop_table("payer_response")
    op.drop_table("payer")
    with op.batch_alter_table("outbox_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_event_published_at"))

    op.drop_table("outbox_event")
    op.drop_table("control_counter")
    with op.batch_alter_table("claim_transition", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_claim_transition_claim_id"))

    op.drop_table("claim_transition")
    with op.batch_alter_table("claim", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_claim_hospital_id"))
        batch_op.drop_index(batch_op.f("ix_claim_encounter_key"))

    op.drop_table("claim")
