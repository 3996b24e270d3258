"""Pending confirmations of AI actions, and each company's settings per action type."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from companion.kit.db import Base, IdMixin, Money, TenantMixin, TimestampMixin, UTCDateTime


def new_token() -> str:
    return str(uuid.uuid4())


class ActionStatus(StrEnum):
    PENDING = "pending"
    AWAITING_SECOND_APPROVAL = "awaiting_second_approval"
    EXECUTED = "executed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    FAILED = "failed"


OPEN_STATUSES = (ActionStatus.PENDING.value, ActionStatus.AWAITING_SECOND_APPROVAL.value)


class AiAction(TenantMixin, TimestampMixin, Base):
    """One proposed action: what it will do, and what became of it (the token is the key)."""

    __tablename__ = "ai_actions"
    __table_args__ = (
        Index("ix_ai_actions_user_created", "user_id", "created_at"),
        Index("ix_ai_actions_status_expires", "status", "expires_at"),
    )

    token: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_token)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    conversation_id: Mapped[str | None] = mapped_column(
        ForeignKey("conversations.id"), index=True, nullable=True
    )
    # The assistant message that proposed it (no foreign key: the message row is written
    # after the proposal in the same turn).
    message_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    action: Mapped[str] = mapped_column(String(64), nullable=False)
    params: Mapped[dict[str, Any]] = mapped_column(nullable=False)
    summary: Mapped[str] = mapped_column(Text, nullable=False)
    preview: Mapped[dict[str, Any]] = mapped_column(nullable=False)
    amount: Mapped[Decimal | None] = mapped_column(Money(), nullable=True)
    document_ref: Mapped[str | None] = mapped_column(String(64), nullable=True)
    status: Mapped[str] = mapped_column(String(32), nullable=False)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), nullable=False)
    result: Mapped[dict[str, Any] | None] = mapped_column(nullable=True)
    first_confirmed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    first_confirmed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    executed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    executed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class AiActionSetting(IdMixin, TenantMixin, TimestampMixin, Base):
    """A company's rule for one action type: disabled for the AI, or a second approver above."""

    __tablename__ = "ai_action_settings"
    __table_args__ = (UniqueConstraint("company_id", "action"),)

    action: Mapped[str] = mapped_column(String(64), nullable=False)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    second_approval_above: Mapped[Decimal | None] = mapped_column(Money(), nullable=True)
