"""Sales orders and their lines."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from companion.kit.db import Base, IdMixin, Money, TenantMixin, TimestampMixin


class SalesOrderStatus(StrEnum):
    DRAFT = "draft"
    CONFIRMED = "confirmed"
    DELIVERED = "delivered"
    INVOICED = "invoiced"
    CANCELLED = "cancelled"


# Orders a customer placed: confirmed, delivered or invoiced (not drafts, not cancelled).
PLACED_STATUSES = (
    SalesOrderStatus.CONFIRMED.value,
    SalesOrderStatus.DELIVERED.value,
    SalesOrderStatus.INVOICED.value,
)


class SalesOrder(IdMixin, TenantMixin, TimestampMixin, Base):
    __tablename__ = "sales_orders"
    __table_args__ = (UniqueConstraint("company_id", "number"),)

    number: Mapped[str] = mapped_column(String(32), nullable=False)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    warehouse_id: Mapped[int | None] = mapped_column(ForeignKey("warehouses.id"))
    order_date: Mapped[dt.date] = mapped_column(Date, index=True, nullable=False)
    status: Mapped[str] = mapped_column(String(16), index=True, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    subtotal: Mapped[Decimal] = mapped_column(Money(), nullable=False)
    discount_total: Mapped[Decimal] = mapped_column(Money(), nullable=False)
    tax_total: Mapped[Decimal] = mapped_column(Money(), nullable=False)
    total: Mapped[Decimal] = mapped_column(Money(), nullable=False)
    notes: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    cancel_reason: Mapped[str | None] = mapped_column(String(500), nullable=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)

    lines: Mapped[list[SalesOrderLine]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="SalesOrderLine.line_no"
    )


class SalesOrderLine(IdMixin, TenantMixin, Base):
    __tablename__ = "sales_order_lines"

    order_id: Mapped[int] = mapped_column(ForeignKey("sales_orders.id"), index=True)
    line_no: Mapped[int] = mapped_column(Integer, nullable=False)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    description: Mapped[str] = mapped_column(String(300), nullable=False)
    quantity: Mapped[Decimal] = mapped_column(Money(18, 3), nullable=False)
    unit_price: Mapped[Decimal] = mapped_column(Money(), nullable=False)
    discount_pct: Mapped[Decimal] = mapped_column(Money(5, 2), nullable=False)
    tax_rate: Mapped[Decimal] = mapped_column(Money(5, 2), nullable=False)
    net_amount: Mapped[Decimal] = mapped_column(Money(), nullable=False)
    tax_amount: Mapped[Decimal] = mapped_column(Money(), nullable=False)

    order: Mapped[SalesOrder] = relationship(back_populates="lines")
