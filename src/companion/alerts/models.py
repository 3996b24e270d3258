"""The ``alerts`` table: one condition a detector found, its explanation and its status."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from companion.kit.db import Base, IdMixin, Money, TenantMixin, UTCDateTime, utcnow


class AlertStatus(StrEnum):
    UNREAD = "unread"
    READ = "read"
    DISMISSED = "dismissed"
    ACTED = "acted"


OPEN_STATUSES = (AlertStatus.UNREAD.value, AlertStatus.READ.value)


class Alert(IdMixin, TenantMixin, Base):
    """An alert; ``condition_key`` names the condition, so a re-scan finds it, not a twin.

    The key carries what makes the condition itself (the item and warehouse of a low stock,
    the threshold an overdue balance crossed, the anomalous day): while it holds, scans
    find the same row. Once a state condition clears, the scan marks the row ``cleared_at``
    and frees the key (suffixing the row's id), so the condition's return is a new alert.
    """

    __tablename__ = "alerts"
    __table_args__ = (UniqueConstraint("company_id", "condition_key"),)

    type: Mapped[str] = mapped_column(String(32), index=True, nullable=False)
    severity: Mapped[str] = mapped_column(String(16), nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    message: Mapped[str] = mapped_column(String(1000), nullable=False)
    module: Mapped[str] = mapped_column(String(32), nullable=False)
    # The permission a user needs to see it (tenancy/permissions.py).
    permission: Mapped[str] = mapped_column(String(32), nullable=False)
    record_ref: Mapped[str | None] = mapped_column(String(64), nullable=True)
    on_date: Mapped[dt.date] = mapped_column(Date, index=True, nullable=False)
    expected: Mapped[Decimal | None] = mapped_column(Money(), nullable=True)
    observed: Mapped[Decimal | None] = mapped_column(Money(), nullable=True)
    suggested_action: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    assignee_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    status: Mapped[str] = mapped_column(
        String(16), index=True, nullable=False, default=AlertStatus.UNREAD.value
    )
    condition_key: Mapped[str] = mapped_column(String(200), nullable=False)
    # The confirmation token of the action opened from this alert ("act").
    action_token: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    cleared_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
