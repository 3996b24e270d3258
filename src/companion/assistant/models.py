"""Conversations and their messages, persisted per user and company."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import FetchedValue, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from companion.kit.db import Base, TenantMixin, UTCDateTime, utcnow


def new_id() -> str:
    return str(uuid.uuid4())


class Conversation(TenantMixin, Base):
    __tablename__ = "conversations"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True, nullable=False)
    title: Mapped[str] = mapped_column(String(200), default="", nullable=False)
    state: Mapped[dict[str, Any] | None] = mapped_column(nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    # The seq of the conversation's last message: a turn takes the next ones in the UPDATE it
    # sends anyway (``last_seq + 2``). "Changed by the server on update" with eager defaults
    # has that UPDATE return the new value (RETURNING), so reading it sends no SELECT.
    last_seq: Mapped[int] = mapped_column(
        Integer, default=0, server_default="0", server_onupdate=FetchedValue(), nullable=False
    )

    __mapper_args__ = {"eager_defaults": True}


class Message(TenantMixin, Base):
    """One turn's message; the assistant's carries what it understood and answered."""

    __tablename__ = "messages"
    # Unique: two turns never share a number (an index, see migration 0017).
    __table_args__ = (
        Index("ix_messages_conversation_id_seq", "conversation_id", "seq", unique=True),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"))
    seq: Mapped[int] = mapped_column(Integer, nullable=False)
    role: Mapped[str] = mapped_column(String(16), nullable=False)
    content: Mapped[str] = mapped_column(Text, nullable=False)
    intent: Mapped[str | None] = mapped_column(String(64), nullable=True)
    confidence: Mapped[float | None] = mapped_column(Float, nullable=True)
    entities: Mapped[dict[str, Any] | None] = mapped_column(nullable=True)
    skill: Mapped[str | None] = mapped_column(String(32), nullable=True)
    action_type: Mapped[str | None] = mapped_column(String(64), nullable=True)
    action_result: Mapped[dict[str, Any] | None] = mapped_column(nullable=True)
    sources: Mapped[list[dict[str, Any]] | None] = mapped_column(nullable=True)
    data: Mapped[dict[str, Any] | None] = mapped_column(nullable=True)
    latency_ms: Mapped[float | None] = mapped_column(Float, nullable=True)
    rating: Mapped[int | None] = mapped_column(Integer, nullable=True)
    rating_comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
