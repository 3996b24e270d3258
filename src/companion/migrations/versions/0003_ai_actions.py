"""ai actions: pending confirmations and per-company action settings

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import companion.kit.db

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ai_action_settings",
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("second_approval_above", companion.kit.db.Money(18, 2), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("created_at", companion.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", companion.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_ai_action_settings_company_id_companies"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ai_action_settings")),
        sa.UniqueConstraint(
            "company_id", "action", name=op.f("uq_ai_action_settings_company_id_action")
        ),
    )
    with op.batch_alter_table("ai_action_settings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ai_action_settings_company_id"), ["company_id"], unique=False
        )

    op.create_table(
        "ai_actions",
        sa.Column("token", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(length=36), nullable=True),
        sa.Column("message_id", sa.String(length=36), nullable=True),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("preview", sa.JSON(), nullable=False),
        sa.Column("amount", companion.kit.db.Money(18, 2), nullable=True),
        sa.Column("document_ref", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("expires_at", companion.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("first_confirmed_by", sa.Integer(), nullable=True),
        sa.Column("first_confirmed_at", companion.kit.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("executed_by", sa.Integer(), nullable=True),
        sa.Column("executed_at", companion.kit.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("created_at", companion.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", companion.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_ai_actions_company_id_companies"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_ai_actions_conversation_id_conversations"),
        ),
        sa.ForeignKeyConstraint(
            ["executed_by"], ["users.id"], name=op.f("fk_ai_actions_executed_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["first_confirmed_by"],
            ["users.id"],
            name=op.f("fk_ai_actions_first_confirmed_by_users"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_ai_actions_user_id_users")
        ),
        sa.PrimaryKeyConstraint("token", name=op.f("pk_ai_actions")),
    )
    with op.batch_alter_table("ai_actions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ai_actions_company_id"), ["company_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_ai_actions_conversation_id"), ["conversation_id"], unique=False
        )
        batch_op.create_index(
            "ix_ai_actions_status_expires", ["status", "expires_at"], unique=False
        )
        batch_op.create_index("ix_ai_actions_user_created", ["user_id", "created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("ai_actions", schema=None) as batch_op:
        batch_op.drop_index("ix_ai_actions_user_created")
        batch_op.drop_index("ix_ai_actions_status_expires")
        batch_op.drop_index(batch_op.f("ix_ai_actions_conversation_id"))
        batch_op.drop_index(batch_op.f("ix_ai_actions_company_id"))
    op.drop_table("ai_actions")
    with op.batch_alter_table("ai_action_settings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ai_action_settings_company_id"))
    op.drop_table("ai_action_settings")
