"""Items (products and services) and warehouses."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import Boolean, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from companion.kit.db import Base, IdMixin, Money, TenantMixin, TimestampMixin


class Item(IdMixin, TenantMixin, TimestampMixin, Base):
    __tablename__ = "items"
    __table_args__ = (UniqueConstraint("company_id", "sku"),)

    sku: Mapped[str] = mapped_column(String(64), nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False, index=True)
    uom: Mapped[str] = mapped_column(String(16), default="unit", nullable=False)
    unit_price: Mapped[Decimal] = mapped_column(Money(), nullable=False)
    unit_cost: Mapped[Decimal] = mapped_column(Money(), nullable=False)
    is_tracked: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    reorder_level: Mapped[Decimal] = mapped_column(Money(18, 3), default=Decimal("0"))
    reorder_qty: Mapped[Decimal] = mapped_column(Money(18, 3), default=Decimal("0"))
    tax_rate: Mapped[Decimal] = mapped_column(Money(5, 2), default=Decimal("0"), nullable=False)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)


class Warehouse(IdMixin, TenantMixin, TimestampMixin, Base):
    __tablename__ = "warehouses"
    __table_args__ = (UniqueConstraint("company_id", "code"),)

    code: Mapped[str] = mapped_column(String(32), nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
