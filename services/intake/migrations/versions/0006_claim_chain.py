"""Claim versions and the billing work queue: every claim of an encounter with its own
history (original, replacement, void), and the denials the hospital's billing office must fix.
Encounters that already had a claim get it as their version 1.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 08:24:36.660761
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "billing_work_item",
        sa.Column("id", sa.String(length=120), nullable=False),
        sa.Column("hospital_id", sa.String(length=64), nullable=False),
        sa.Column("encounter_id", sa.String(length=64), nullable=False),
        sa.Column("encounter_key", sa.String(length=140), nullable=False),
        sa.Column("claim_id", sa.String(length=64), nullable=False),
        sa.Column("claim_version", sa.Integer(), nullable=False),
        sa.Column("claim_status", sa.String(length=30), nullable=False),
        sa.Column("items", sa.String(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("billing_work_item", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_billing_work_item_encounter_key"), ["encounter_key"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_billing_work_item_hospital_id"), ["hospital_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_billing_work_item_status"), ["status"], unique=False)

    op.create_table(
        "claim_version",
        sa.Column("claim_id", sa.String(length=64), nullable=False),
        sa.Column("encounter_key", sa.String(length=140), nullable=False),
        sa.Column("hospital_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("frequency", sa.String(length=1), nullable=False),
        sa.Column("replaces_claim_id", sa.String(length=64), nullable=True),
        sa.Column("payer_claim_id", sa.String(length=50), nullable=True),
        sa.Column("status", sa.String(length=30), nullable=False),
        sa.Column("reason", sa.String(), nullable=False),
        sa.Column("total_charge", sa.String(), nullable=True),
        sa.Column("paid", sa.String(), nullable=True),
        sa.Column("triage", sa.String(), nullable=False),
        sa.Column("history", sa.String(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("claim_id"),
    )
    with op.batch_alter_table("claim_version", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_claim_version_encounter_key"), ["encounter_key"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_claim_version_hospital_id"), ["hospital_id"], unique=False
        )
    op.execute(
        "INSERT INTO claim_version (claim_id, encounter_key, hospital_id, version, frequency, "
        "status, reason, total_charge, paid, triage, history, updated_at) "
        "SELECT claim_id, encounter_key, hospital_id, 1, '1', claim_status, "
        "COALESCE(claim_reason, ''), claim_total, claim_paid, '[]', claim_history, updated_at "
        "FROM encounter WHERE claim_id IS NOT NULL AND claim_status IS NOT NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table("claim_version", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_claim_version_hospital_id"))
        batch_op.drop_index(batch_op.f("ix_claim_version_encounter_key"))

    op.drop_table("claim_version")
    with op.batch_alter_table("billing_work_item", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_billing_work_item_status"))
        batch_op.drop_index(batch_op.f("ix_billing_work_item_hospital_id"))
        batch_op.drop_index(batch_op.f("ix_billing_work_item_encounter_key"))

    op.drop_table("billing_work_item")
