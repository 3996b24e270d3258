"""The learning loop's tables: telemetry events, feedback, training examples, datasets, NLU
models per company and fine-tune run records."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from companion.kit.db import Base, IdMixin, TenantMixin, TimestampMixin, UTCDateTime, utcnow


class ExampleStatus(StrEnum):
    REVIEW = "review"
    APPROVED = "approved"
    REJECTED = "rejected"


class ModelStatus(StrEnum):
    ACTIVE = "active"  # the company's turns are read with it
    RETIRED = "retired"  # promoted once, replaced or rolled back since
    REFUSED = "refused"  # the gate said no; kept for its figures


class TelemetryEvent(TenantMixin, Base):
    """One thing that happened (a chat turn, a feedback, an action's fate), PII-redacted."""

    __tablename__ = "telemetry_events"
    __table_args__ = (
        Index("ix_telemetry_events_company_at", "company_id", "at"),
        Index("ix_telemetry_events_company_user", "company_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    kind: Mapped[str] = mapped_column(String(48), index=True, nullable=False)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    duration_ms: Mapped[float | None] = mapped_column(Float, nullable=True)
    message_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    data: Mapped[dict[str, Any]] = mapped_column(nullable=False, default=dict)


class MessageFeedback(TenantMixin, TimestampMixin, Base):
    """The caller's verdict on one answer: thumbs, a 1-5 score, an optional correction."""

    __tablename__ = "message_feedback"
    __table_args__ = (UniqueConstraint("company_id", "message_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[str] = mapped_column(ForeignKey("messages.id"), nullable=False)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    thumbs: Mapped[int | None] = mapped_column(Integer, nullable=True)  # +1 / -1
    score: Mapped[int | None] = mapped_column(Integer, nullable=True)  # 1..5
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    correction: Mapped[dict[str, Any] | None] = mapped_column(nullable=True)


class TrainingExample(IdMixin, TenantMixin, TimestampMixin, Base):
    """A message with what it should have been read as, waiting for or past review."""

    __tablename__ = "training_examples"
    __table_args__ = (
        UniqueConstraint("company_id", "message_id"),
        Index("ix_training_examples_company_status", "company_id", "status"),
    )

    # The user's message (redacted text kept apart for export); the answer it got.
    message_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    text: Mapped[str] = mapped_column(Text, nullable=False)
    predicted_intent: Mapped[str | None] = mapped_column(String(64), nullable=True)
    intent: Mapped[str | None] = mapped_column(String(64), nullable=True)
    entities: Mapped[dict[str, Any] | None] = mapped_column(nullable=True)
    answer: Mapped[str | None] = mapped_column(Text, nullable=True)
    kinds: Mapped[list[str]] = mapped_column(nullable=False, default=list)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default=ExampleStatus.REVIEW)
    created_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    reviewer_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    reviewer_notes: Mapped[str | None] = mapped_column(Text, nullable=True)
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class Dataset(IdMixin, TenantMixin, Base):
    """One exported version of a company's approved examples, with its manifest."""

    __tablename__ = "learning_datasets"
    __table_args__ = (UniqueConstraint("company_id", "version"),)

    version: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    created_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    count: Mapped[int] = mapped_column(Integer, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    manifest: Mapped[dict[str, Any]] = mapped_column(nullable=False)
    chat_jsonl: Mapped[str] = mapped_column(Text, nullable=False)
    rasa_yaml: Mapped[str] = mapped_column(Text, nullable=False)


class NluModel(IdMixin, TenantMixin, Base):
    """One retrained classifier of a company: its examples, the gate's figures and fate."""

    __tablename__ = "nlu_models"
    __table_args__ = (UniqueConstraint("company_id", "version"),)

    version: Mapped[int] = mapped_column(Integer, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    created_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    promoted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # What it was trained on ([text, intent] pairs): the file is rebuilt from it when missing.
    examples: Mapped[list[Any]] = mapped_column(JSON, nullable=False)
    fingerprint: Mapped[str] = mapped_column(String(64), nullable=False)
    parameters: Mapped[dict[str, Any]] = mapped_column(nullable=False)
    gate: Mapped[dict[str, Any]] = mapped_column(nullable=False)
    train_seconds: Mapped[float] = mapped_column(Float, nullable=False)


class FinetuneRun(IdMixin, TenantMixin, Base):
    """An LLM fine-tune (LoRA adapter) run made here or elsewhere: a record, not a trainer."""

    __tablename__ = "finetune_runs"

    dataset_id: Mapped[int] = mapped_column(ForeignKey("learning_datasets.id"), nullable=False)
    base_model: Mapped[str] = mapped_column(String(200), nullable=False)
    adapter: Mapped[str] = mapped_column(String(300), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    parameters: Mapped[dict[str, Any]] = mapped_column(nullable=False)
    evaluation: Mapped[dict[str, Any]] = mapped_column(nullable=False)
    notes: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    created_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
