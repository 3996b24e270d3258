"""telemetry events, feedback corrections, training examples, datasets, NLU models (learning loop)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import companion.kit.db

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _company() -> sa.Column:  # type: ignore[type-arg]
    return sa.Column("company_id", sa.Integer(), nullable=False)


def _fk_company(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["company_id"],
        ["companies.id"],
        name=f"fk_{table}_company_id_companies",
        ondelete="RESTRICT",
    )


def _fk_user(table: str, column: str, *, null: bool = True) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column],
        ["users.id"],
        name=f"fk_{table}_{column}_users",
        ondelete="SET NULL" if null else None,
    )


def _at(name: str, *, nullable: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, companion.kit.db.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "telemetry_events",
        sa.Column("id", sa.Integer(), nullable=False),
        _company(),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=48), nullable=False),
        _at("at"),
        sa.Column("duration_ms", sa.Float(), nullable=True),
        sa.Column("message_id", sa.String(length=36), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        _fk_company("telemetry_events"),
        _fk_user("telemetry_events", "user_id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_telemetry_events")),
    )
    with op.batch_alter_table("telemetry_events", schema=None) as batch_op:
        batch_op.create_index("ix_telemetry_events_company_at", ["company_id", "at"])
        batch_op.create_index("ix_telemetry_events_company_user", ["company_id", "user_id"])
        batch_op.create_index(batch_op.f("ix_telemetry_events_company_id"), ["company_id"])
        batch_op.create_index(batch_op.f("ix_telemetry_events_kind"), ["kind"])

    op.create_table(
        "message_feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        _company(),
        sa.Column("message_id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("thumbs", sa.Integer(), nullable=True),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("correction", sa.JSON(), nullable=True),
        _at("created_at"),
        _at("updated_at"),
        _fk_company("message_feedback"),
        sa.ForeignKeyConstraint(
            ["message_id"], ["messages.id"], name="fk_message_feedback_message_id_messages"
        ),
        _fk_user("message_feedback", "user_id", null=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_feedback")),
        sa.UniqueConstraint(
            "company_id", "message_id", name="uq_message_feedback_company_id_message_id"
        ),
    )
    with op.batch_alter_table("message_feedback", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_message_feedback_company_id"), ["company_id"])

    op.create_table(
        "training_examples",
        sa.Column("id", sa.Integer(), nullable=False),
        _company(),
        sa.Column("message_id", sa.String(length=36), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("predicted_intent", sa.String(length=64), nullable=True),
        sa.Column("intent", sa.String(length=64), nullable=True),
        sa.Column("entities", sa.JSON(), nullable=True),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("kinds", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("reviewer_id", sa.Integer(), nullable=True),
        sa.Column("reviewer_notes", sa.Text(), nullable=True),
        _at("reviewed_at", nullable=True),
        _at("created_at"),
        _at("updated_at"),
        _fk_company("training_examples"),
        _fk_user("training_examples", "created_by"),
        _fk_user("training_examples", "reviewer_id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_examples")),
        sa.UniqueConstraint(
            "company_id", "message_id", name="uq_training_examples_company_id_message_id"
        ),
    )
    with op.batch_alter_table("training_examples", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_training_examples_company_id"), ["company_id"])
        batch_op.create_index("ix_training_examples_company_status", ["company_id", "status"])

    op.create_table(
        "learning_datasets",
        sa.Column("id", sa.Integer(), nullable=False),
        _company(),
        sa.Column("version", sa.Integer(), nullable=False),
        _at("created_at"),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("manifest", sa.JSON(), nullable=False),
        sa.Column("chat_jsonl", sa.Text(), nullable=False),
        sa.Column("rasa_yaml", sa.Text(), nullable=False),
        _fk_company("learning_datasets"),
        _fk_user("learning_datasets", "created_by"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_learning_datasets")),
        sa.UniqueConstraint(
            "company_id", "version", name="uq_learning_datasets_company_id_version"
        ),
    )
    with op.batch_alter_table("learning_datasets", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_learning_datasets_company_id"), ["company_id"])

    op.create_table(
        "nlu_models",
        sa.Column("id", sa.Integer(), nullable=False),
        _company(),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        _at("created_at"),
        sa.Column("created_by", sa.Integer(), nullable=True),
        _at("promoted_at", nullable=True),
        sa.Column("examples", sa.JSON(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("parameters", sa.JSON(), nullable=False),
        sa.Column("gate", sa.JSON(), nullable=False),
        sa.Column("train_seconds", sa.Float(), nullable=False),
        _fk_company("nlu_models"),
        _fk_user("nlu_models", "created_by"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_nlu_models")),
        sa.UniqueConstraint("company_id", "version", name="uq_nlu_models_company_id_version"),
    )
    with op.batch_alter_table("nlu_models", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_nlu_models_company_id"), ["company_id"])

    op.create_table(
        "finetune_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        _company(),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("base_model", sa.String(length=200), nullable=False),
        sa.Column("adapter", sa.String(length=300), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("parameters", sa.JSON(), nullable=False),
        sa.Column("evaluation", sa.JSON(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        _at("created_at"),
        sa.Column("created_by", sa.Integer(), nullable=True),
        _fk_company("finetune_runs"),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["learning_datasets.id"],
            name="fk_finetune_runs_dataset_id_learning_datasets",
        ),
        _fk_user("finetune_runs", "created_by"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_finetune_runs")),
    )
    with op.batch_alter_table("finetune_runs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_finetune_runs_company_id"), ["company_id"])


def downgrade() -> None:
    for table in (
        "finetune_runs",
        "nlu_models",
        "learning_datasets",
        "training_examples",
        "message_feedback",
        "telemetry_events",
    ):
        op.drop_table(table)
