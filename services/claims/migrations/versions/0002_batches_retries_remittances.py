"""Batches, retries and remittances: per-payer interchanges, attempts, 835 reversals and PLB.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 07:32:50.460758
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "claim_batch",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("payer_id", sa.String(length=80), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.String(), nullable=False),
        sa.Column("interchange_control_number", sa.Integer(), nullable=False),
        sa.Column("group_control", sa.Integer(), nullable=False),
        sa.Column("transaction_control", sa.Integer(), nullable=False),
        sa.Column("claim_count", sa.Integer(), nullable=False),
        sa.Column("prepared_for", sa.DateTime(timezone=True), nullable=False),
        sa.Column("x12", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("interchange_control_number"),
    )
    with op.batch_alter_table("claim_batch", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_claim_batch_lease_until"), ["lease_until"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_claim_batch_payer_id"), ["payer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_claim_batch_status"), ["status"], unique=False)

    op.create_table(
        "provider_adjustment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("payer_id", sa.String(length=80), nullable=False),
        sa.Column("trace_number", sa.String(length=50), nullable=False),
        sa.Column("provider_id", sa.String(length=50), nullable=False),
        sa.Column("fiscal_period", sa.String(length=8), nullable=False),
        sa.Column("reason", sa.String(length=2), nullable=False),
        sa.Column("reference", sa.String(length=50), nullable=False),
        sa.Column("amount", sa.String(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("provider_adjustment", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_provider_adjustment_payer_id"), ["payer_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_provider_adjustment_trace_number"), ["trace_number"], unique=False
        )

    op.create_table(
        "remittance",
        sa.Column("payer_id", sa.String(length=80), nullable=False),
        sa.Column("trace_number", sa.String(length=50), nullable=False),
        sa.Column("total_paid", sa.String(), nullable=False),
        sa.Column("claim_payments", sa.Integer(), nullable=False),
        sa.Column("provider_adjustment_total", sa.String(), nullable=False),
        sa.Column("batch_id", sa.String(length=64), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("payer_id", "trace_number"),
    )
    with op.batch_alter_table("claim", schema=None) as batch_op:
        # Existing claims: defaults on the way in, then the values they imply (below).
        batch_op.add_column(sa.Column("steps", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("payer_claim_id", sa.String(length=50), nullable=True))
        batch_op.add_column(sa.Column("batch_id", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("transaction_set", sa.String(length=30), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("alone", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.create_index(batch_op.f("ix_claim_batch_id"), ["batch_id"], unique=False)
        batch_op.create_index("ix_claim_ready", ["status", "next_attempt_at"], unique=False)

    # Each claim's announcements are numbered by the transitions it already has; a claim built
    # before batching is ready to go now.
    op.execute(
        "UPDATE claim SET steps = "
        "(SELECT count(*) FROM claim_transition t WHERE t.claim_id = claim.id)"
    )
    op.execute("UPDATE claim SET next_attempt_at = created_at WHERE status = 'built'")

    with op.batch_alter_table("payer_response", schema=None) as batch_op:
        batch_op.add_column(sa.Column("batch_id", sa.String(length=64), nullable=True))
        batch_op.alter_column("claim_id", existing_type=sa.VARCHAR(length=64), nullable=True)
        batch_op.create_index(batch_op.f("ix_payer_response_batch_id"), ["batch_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("payer_response", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payer_response_batch_id"))
        batch_op.alter_column("claim_id", existing_type=sa.VARCHAR(length=64), nullable=False)
        batch_op.drop_column("batch_id")

    with op.batch_alter_table("claim", schema=None) as batch_op:
        batch_op.drop_index("ix_claim_ready")
        batch_op.drop_index(batch_op.f("ix_claim_batch_id"))
        batch_op.drop_column("alone")
        batch_op.drop_column("next_attempt_at")
        batch_op.drop_column("attempts")
        batch_op.drop_column("transaction_set")
        batch_op.drop_column("batch_id")
        batch_op.drop_column("payer_claim_id")
        batch_op.drop_column("steps")

    op.drop_table("remittance")
    with op.batch_alter_table("provider_adjustment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_provider_adjustment_trace_number"))
        batch_op.drop_index(batch_op.f("ix_provider_adjustment_payer_id"))

    op.drop_table("provider_adjustment")
    with op.batch_alter_table("claim_batch", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_claim_batch_status"))
        batch_op.drop_index(batch_op.f("ix_claim_batch_payer_id"))
        batch_op.drop_index(batch_op.f("ix_claim_batch_lease_until"))

    op.drop_table("claim_batch")
