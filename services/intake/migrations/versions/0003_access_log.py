"""PHI access log: append-only records of every read

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 07:44:21.054332
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REFUSE = "access_record is append-only"


def upgrade() -> None:
    op.create_table(
        "access_record",
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("actor_org", sa.String(length=64), nullable=True),
        sa.Column("tenant", sa.String(length=64), nullable=True),
        sa.Column("action", sa.String(length=60), nullable=False),
        sa.Column("encounter_key", sa.String(length=140), nullable=True),
        sa.Column("claim_id", sa.String(length=64), nullable=True),
        sa.Column("route", sa.String(length=200), nullable=False),
        sa.Column("service", sa.String(length=30), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
        sa.UniqueConstraint("event_id"),
    )
    with op.batch_alter_table("access_record", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_access_record_actor"), ["actor"], unique=False)
        batch_op.create_index(batch_op.f("ix_access_record_at"), ["at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_access_record_encounter_key"), ["encounter_key"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_access_record_tenant"), ["tenant"], unique=False)

    # Append-only: the database itself refuses to change or remove a record.
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE OR REPLACE FUNCTION access_record_append_only() RETURNS trigger "
            f"LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION '{REFUSE}'; END $$"
        )
        op.execute(
            "CREATE TRIGGER access_record_no_change BEFORE UPDATE OR DELETE ON access_record "
            "FOR EACH ROW EXECUTE FUNCTION access_record_append_only()"
        )
        op.execute(
            "CREATE TRIGGER access_record_no_truncate BEFORE TRUNCATE ON access_record "
            "FOR EACH STATEMENT EXECUTE FUNCTION access_record_append_only()"
        )
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER access_record_no_{verb.lower()} BEFORE {verb} ON access_record "
                f"BEGIN SELECT RAISE(ABORT, '{REFUSE}'); END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION access_record_append_only() CASCADE")
    with op.batch_alter_table("access_record", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_access_record_tenant"))
        batch_op.drop_index(batch_op.f("ix_access_record_encounter_key"))
        batch_op.drop_index(batch_op.f("ix_access_record_at"))
        batch_op.drop_index(batch_op.f("ix_access_record_actor"))

    op.drop_table("access_record")
