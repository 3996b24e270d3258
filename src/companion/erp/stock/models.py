"""Stock on hand per item and warehouse, and the moves that change it.

The one home of "below reorder" and of stock value at cost (docs/decisions/0002).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import (
    CheckConstraint,
    ColumnElement,
    Date,
    ForeignKey,
    String,
    UniqueConstraint,
    and_,
)
from sqlalchemy.orm import Mapped, mapped_column

from companion.erp.items.models import Item
from companion.kit.db import Base, IdMixin, Money, TenantMixin, TimestampMixin


class MoveType(StrEnum):
    RECEIPT = "receipt"
    ISSUE = "issue"
    ADJUSTMENT = "adjustment"
    TRANSFER = "transfer"


class StockLevel(IdMixin, TenantMixin, TimestampMixin, Base):
    __tablename__ = "stock_levels"
    __table_args__ = (
        UniqueConstraint("item_id", "warehouse_id"),
        # the service refuses negative stock; the database is the last line of defence
        CheckConstraint("quantity >= 0", name="not_negative"),
    )

    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True, nullable=False)
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouses.id"), index=True)
    quantity: Mapped[Decimal] = mapped_column(Money(18, 3), default=Decimal("0"), nullable=False)


def is_below_reorder() -> ColumnElement[bool]:
    """A level (joined to its ``Item``) strictly below the item's reorder level: active,
    tracked items only, and a reorder level of 0 never is. Shortfall = level - quantity."""
    return and_(
        Item.is_active.is_(True),
        Item.is_tracked.is_(True),
        Item.reorder_level > 0,
        StockLevel.quantity < Item.reorder_level,
    )


# Stock value at cost: quantity on hand x the item's unit cost (a level joined to its item).
STOCK_VALUE = StockLevel.quantity * Item.unit_cost


class StockMove(IdMixin, TenantMixin, TimestampMixin, Base):
    """One change of stock. ``quantity`` is positive; the type and warehouses give the sign."""

    __tablename__ = "stock_moves"

    move_type: Mapped[str] = mapped_column(String(16), nullable=False)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True, nullable=False)
    from_warehouse_id: Mapped[int | None] = mapped_column(ForeignKey("warehouses.id"))
    to_warehouse_id: Mapped[int | None] = mapped_column(ForeignKey("warehouses.id"))
    quantity: Mapped[Decimal] = mapped_column(Money(18, 3), nullable=False)
    unit_cost: Mapped[Decimal] = mapped_column(Money(), nullable=False)
    move_date: Mapped[dt.date] = mapped_column(Date, index=True, nullable=False)
    reference: Mapped[str | None] = mapped_column(String(64), nullable=True)
    reason: Mapped[str | None] = mapped_column(String(500), nullable=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
