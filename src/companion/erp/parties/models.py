"""Customers and suppliers."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import Boolean, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from companion.kit.db import Base, IdMixin, Money, TenantMixin, TimestampMixin


class PartyMixin(IdMixin, TenantMixin, TimestampMixin):
    code: Mapped[str] = mapped_column(String(32), nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False, index=True)
    email: Mapped[str | None] = mapped_column(String(200), nullable=True)
    phone: Mapped[str | None] = mapped_column(String(50), nullable=True)
    payment_terms_days: Mapped[int] = mapped_column(Integer, default=30, nullable=False)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)


class Customer(PartyMixin, Base):
    __tablename__ = "customers"
    __table_args__ = (UniqueConstraint("company_id", "code"),)

    credit_limit: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0"), nullable=False)


class Supplier(PartyMixin, Base):
    __tablename__ = "suppliers"
    __table_args__ = (UniqueConstraint("company_id", "code"),)
