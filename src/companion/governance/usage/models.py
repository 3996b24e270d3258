"""The usage tables: one row per model call or chat turn, and the budget counters."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from companion.kit.db import Base, Money, UTCDateTime, utcnow

MODEL_CALL, TURN = "model_call", "turn"


class UsageEvent(Base):
    """One metered model call (``model_call``) or chat turn (``turn``)."""

    __tablename__ = "usage_events"
    __table_args__ = (Index("ix_usage_events_company_day", "company_id", "day"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    company_id: Mapped[int] = mapped_column(
        ForeignKey("companies.id", ondelete="RESTRICT"), index=True, nullable=False
    )
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    use_case: Mapped[str] = mapped_column(String(64), nullable=False)
    provider: Mapped[str | None] = mapped_column(String(64), nullable=True)
    model: Mapped[str | None] = mapped_column(String(200), nullable=True)
    tokens_in: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    tokens_out: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    latency_ms: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    cached: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    cost: Mapped[Decimal] = mapped_column(Money(18, 6), nullable=False, default=Decimal(0))
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    conversation_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    # The company's local date when it happened: days and months group on it.
    day: Mapped[dt.date] = mapped_column(Date, nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)


class UsageCounter(Base):
    """What one budget period has spent so far (reserved calls included)."""

    __tablename__ = "usage_counters"
    __table_args__ = (UniqueConstraint("company_id", "scope", "subject", "period", "metric"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    company_id: Mapped[int] = mapped_column(
        ForeignKey("companies.id", ondelete="RESTRICT"), index=True, nullable=False
    )
    scope: Mapped[str] = mapped_column(String(16), nullable=False)  # user_day, company_day ...
    subject: Mapped[int] = mapped_column(Integer, nullable=False, default=0)  # user id or 0
    period: Mapped[str] = mapped_column(String(10), nullable=False)  # 2026-12-06, 2026-12
    metric: Mapped[str] = mapped_column(String(8), nullable=False)  # tokens, cost (micro-units)
    spent: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
