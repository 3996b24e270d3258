"""Ground truth the demo records about itself: the anomalies it injected on purpose."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import Date, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from companion.kit.db import Base, IdMixin, Money, TenantMixin


class DemoAnomaly(IdMixin, TenantMixin, Base):
    """A day whose ``metric`` was pushed up (spike) or down (drop) by ``factor``.

    ``observed`` is the metric on that day and ``baseline`` the mean of the same weekday
    over the four weeks before, both as built, so a detector can be scored against them.
    """

    __tablename__ = "demo_anomalies"
    __table_args__ = (UniqueConstraint("company_id", "on_date", "metric"),)

    on_date: Mapped[dt.date] = mapped_column(Date, index=True, nullable=False)
    metric: Mapped[str] = mapped_column(String(32), nullable=False)
    direction: Mapped[str] = mapped_column(String(8), nullable=False)
    factor: Mapped[Decimal] = mapped_column(Money(8, 2), nullable=False)
    observed: Mapped[Decimal] = mapped_column(Money(), nullable=False)
    baseline: Mapped[Decimal] = mapped_column(Money(), nullable=False)
    description: Mapped[str] = mapped_column(String(300), nullable=False)
