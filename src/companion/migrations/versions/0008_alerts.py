"""alerts and their delivery (proactive)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import companion.kit.db

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "alerts",
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("message", sa.String(length=1000), nullable=False),
        sa.Column("module", sa.String(length=32), nullable=False),
        sa.Column("permission", sa.String(length=32), nullable=False),
        sa.Column("record_ref", sa.String(length=64), nullable=True),
        sa.Column("on_date", sa.Date(), nullable=False),
        sa.Column("expected", companion.kit.db.Money(18, 2), nullable=True),
        sa.Column("observed", companion.kit.db.Money(18, 2), nullable=True),
        sa.Column("suggested_action", sa.JSON(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("assignee_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("condition_key", sa.String(length=200), nullable=False),
        sa.Column("action_token", sa.String(length=64), nullable=True),
        sa.Column("created_at", companion.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", companion.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("cleared_at", companion.kit.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["assignee_id"],
            ["users.id"],
            name=op.f("fk_alerts_assignee_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_alerts_company_id_companies"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
        sa.UniqueConstraint(
            "company_id", "condition_key", name=op.f("uq_alerts_company_id_condition_key")
        ),
    )
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alerts_company_id"), ["company_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_alerts_on_date"), ["on_date"], unique=False)
        batch_op.create_index(batch_op.f("ix_alerts_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_alerts_type"), ["type"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alerts_type"))
        batch_op.drop_index(batch_op.f("ix_alerts_status"))
        batch_op.drop_index(batch_op.f("ix_alerts_on_date"))
        batch_op.drop_index(batch_op.f("ix_alerts_company_id"))

    op.drop_table("alerts")
