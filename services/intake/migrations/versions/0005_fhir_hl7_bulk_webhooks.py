"""FHIR and HL7 intake, bulk NDJSON jobs, webhooks and what FHIR read-back needs

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 08:23:59.845264
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "bulk_chunk",
        sa.Column("job_id", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("first_line", sa.Integer(), nullable=False),
        sa.Column("line_count", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("done", sa.Boolean(), nullable=False),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("accepted", sa.Integer(), nullable=False),
        sa.Column("duplicate", sa.Integer(), nullable=False),
        sa.Column("refused", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.Integer(), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("job_id", "seq"),
    )
    with op.batch_alter_table("bulk_chunk", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bulk_chunk_done"), ["done"], unique=False)

    op.create_table(
        "bulk_error",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.String(length=64), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(length=300), nullable=False),
        sa.Column("message", sa.String(length=500), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("bulk_error", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bulk_error_job_id"), ["job_id"], unique=False)

    op.create_table(
        "bulk_job",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("hospital_id", sa.String(length=64), nullable=False),
        sa.Column("format", sa.String(length=10), nullable=False),
        sa.Column("lines_total", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("bulk_job", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bulk_job_hospital_id"), ["hospital_id"], unique=False)

    op.create_table(
        "encounter_codes",
        sa.Column("encounter_id", sa.String(length=64), nullable=False),
        sa.Column("diagnoses", sa.String(), nullable=False),
        sa.Column("procedures", sa.String(), nullable=False),
        sa.Column("coded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("encounter_id"),
    )
    op.create_table(
        "encounter_identifier",
        sa.Column("encounter_id", sa.String(length=64), nullable=False),
        sa.Column("hospital_id", sa.String(length=64), nullable=False),
        sa.Column("system", sa.String(length=500), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.PrimaryKeyConstraint("encounter_id"),
        sa.UniqueConstraint("hospital_id", "system", "value"),
    )
    op.create_table(
        "hl7_facility",
        sa.Column("facility", sa.String(length=200), nullable=False),
        sa.Column("hospital_id", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("facility"),
    )
    with op.batch_alter_table("hl7_facility", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_hl7_facility_hospital_id"), ["hospital_id"], unique=False
        )

    op.create_table(
        "hl7_message",
        sa.Column("facility", sa.String(length=200), nullable=False),
        sa.Column("control_id", sa.String(length=199), nullable=False),
        sa.Column("ack_code", sa.String(length=2), nullable=False),
        sa.Column("ack", sa.String(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("facility", "control_id"),
    )
    op.create_table(
        "hl7_visit",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("hospital_id", sa.String(length=64), nullable=False),
        sa.Column("visit_number", sa.String(length=64), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("complete", sa.Boolean(), nullable=False),
        sa.Column("last_message_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("released_encounter_id", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("hospital_id", "visit_number"),
    )
    with op.batch_alter_table("hl7_visit", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_hl7_visit_last_message_at"), ["last_message_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_hl7_visit_released_encounter_id"),
            ["released_encounter_id"],
            unique=False,
        )

    op.create_table(
        "hospital_intake_settings",
        sa.Column("hospital_id", sa.String(length=64), nullable=False),
        sa.Column("settings", sa.String(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("hospital_id"),
    )
    op.create_table(
        "webhook",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("hospital_id", sa.String(length=64), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("events", sa.String(), nullable=False),
        sa.Column("secret", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("webhook", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_webhook_hospital_id"), ["hospital_id"], unique=False)

    op.create_table(
        "webhook_attempt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("delivery_seq", sa.Integer(), nullable=False),
        sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.String(length=200), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("webhook_attempt", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_webhook_attempt_delivery_seq"), ["delivery_seq"], unique=False
        )

    op.create_table(
        "webhook_delivery",
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("webhook_id", sa.String(length=64), nullable=False),
        sa.Column("encounter_id", sa.String(length=64), nullable=False),
        sa.Column("event_type", sa.String(length=40), nullable=False),
        sa.Column("payload", sa.String(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("seq"),
        sa.UniqueConstraint("id"),
    )
    with op.batch_alter_table("webhook_delivery", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_webhook_delivery_next_attempt_at"), ["next_attempt_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_webhook_delivery_status"), ["status"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_webhook_delivery_webhook_id"), ["webhook_id"], unique=False
        )

    with op.batch_alter_table("encounter", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claim_pcn", sa.String(length=38), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("encounter", schema=None) as batch_op:
        batch_op.drop_column("claim_pcn")

    with op.batch_alter_table("webhook_delivery", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_webhook_delivery_webhook_id"))
        batch_op.drop_index(batch_op.f("ix_webhook_delivery_status"))
        batch_op.drop_index(batch_op.f("ix_webhook_delivery_next_attempt_at"))

    op.drop_table("webhook_delivery")
    with op.batch_alter_table("webhook_attempt", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_webhook_attempt_delivery_seq"))

    op.drop_table("webhook_attempt")
    with op.batch_alter_table("webhook", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_webhook_hospital_id"))

    op.drop_table("webhook")
    op.drop_table("hospital_intake_settings")
    with op.batch_alter_table("hl7_visit", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_hl7_visit_released_encounter_id"))
        batch_op.drop_index(batch_op.f("ix_hl7_visit_last_message_at"))

    op.drop_table("hl7_visit")
    op.drop_table("hl7_message")
    with op.batch_alter_table("hl7_facility", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_hl7_facility_hospital_id"))

    op.drop_table("hl7_facility")
    op.drop_table("encounter_identifier")
    op.drop_table("encounter_codes")
    with op.batch_alter_table("bulk_job", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bulk_job_hospital_id"))

    op.drop_table("bulk_job")
    with op.batch_alter_table("bulk_error", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bulk_error_job_id"))

    op.drop_table("bulk_error")
    with op.batch_alter_table("bulk_chunk", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bulk_chunk_done"))

    op.drop_table("bulk_chunk")
