"""memories and memory policy (governance: memory, retention, purge receipts)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import companion.kit.db

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _fk(
    table: str, column: str, target: str, ondelete: str | None = None
) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"), ondelete=ondelete
    )


def upgrade() -> None:
    op.create_table(
        "memories",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("retention", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("text_hash", sa.String(length=64), nullable=False),
        sa.Column("vector", sa.JSON(), nullable=True),
        sa.Column("entities", sa.JSON(), nullable=True),
        sa.Column("history", sa.JSON(), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("conversation_id", sa.String(length=36), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", companion.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", companion.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", companion.kit.db.UTCDateTime(timezone=True), nullable=True),
        _fk("memories", "company_id", "companies", ondelete="RESTRICT"),
        _fk("memories", "user_id", "users"),
        _fk("memories", "created_by", "users"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_memories")),
    )
    with op.batch_alter_table("memories", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_memories_company_id"), ["company_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_memories_user_id"), ["user_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_memories_expires_at"), ["expires_at"], unique=False)
        batch_op.create_index("ix_memories_company_user", ["company_id", "user_id"], unique=False)

    op.create_table(
        "global_memories",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("retention", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("text_hash", sa.String(length=64), nullable=False),
        sa.Column("vector", sa.JSON(), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", companion.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", companion.kit.db.UTCDateTime(timezone=True), nullable=True),
        _fk("global_memories", "created_by", "users"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_global_memories")),
    )
    with op.batch_alter_table("global_memories", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_global_memories_text_hash"), ["text_hash"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_global_memories_expires_at"), ["expires_at"], unique=False
        )

    op.create_table(
        "memory_policies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("short_ttl_s", sa.Integer(), nullable=True),
        sa.Column("medium_ttl_s", sa.Integer(), nullable=True),
        sa.Column("long_ttl_s", sa.Integer(), nullable=True),
        sa.Column("pii_scrubbing", sa.Boolean(), nullable=False),
        sa.Column("compliance_mode", sa.Boolean(), nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.Column("updated_at", companion.kit.db.UTCDateTime(timezone=True), nullable=False),
        _fk("memory_policies", "company_id", "companies", ondelete="RESTRICT"),
        _fk("memory_policies", "updated_by", "users"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_memory_policies")),
        sa.UniqueConstraint("company_id", name=op.f("uq_memory_policies_company_id")),
    )
    with op.batch_alter_table("memory_policies", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_memory_policies_company_id"), ["company_id"], unique=False
        )

    op.create_table(
        "memory_purge_receipts",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("requested_by", sa.Integer(), nullable=False),
        sa.Column("criteria", sa.JSON(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("audit_seq", sa.Integer(), nullable=True),
        sa.Column("created_at", companion.kit.db.UTCDateTime(timezone=True), nullable=False),
        _fk("memory_purge_receipts", "company_id", "companies", ondelete="RESTRICT"),
        _fk("memory_purge_receipts", "requested_by", "users"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_memory_purge_receipts")),
    )
    with op.batch_alter_table("memory_purge_receipts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_memory_purge_receipts_company_id"), ["company_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_memory_purge_receipts_created_at"), ["created_at"], unique=False
        )


def downgrade() -> None:
    op.drop_table("memory_purge_receipts")
    op.drop_table("memory_policies")
    op.drop_table("global_memories")
    op.drop_table("memories")
