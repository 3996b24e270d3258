"""Purchase orders, their lines, approval levels and approval tasks.

The one home of the purchase-order status groups (docs/decisions/0002): placed, open and on
order, read by the data queries, the semantic layer, the repositories and the alerts.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from companion.kit.db import Base, IdMixin, Money, TenantMixin, TimestampMixin, UTCDateTime


class POStatus(StrEnum):
    DRAFT = "draft"
    PENDING_APPROVAL = "pending_approval"
    APPROVED = "approved"
    REJECTED = "rejected"
    PARTIALLY_RECEIVED = "partially_received"
    RECEIVED = "received"
    CLOSED = "closed"  # received and billed
    CANCELLED = "cancelled"


# Orders really placed: drafts, rejected and cancelled orders buy nothing.
PLACED_STATUSES = tuple(
    s.value for s in POStatus if s not in (POStatus.DRAFT, POStatus.REJECTED, POStatus.CANCELLED)
)
# Open orders: approved and not yet received in full (goods may arrive against them).
OPEN_STATUSES = (POStatus.APPROVED.value, POStatus.PARTIALLY_RECEIVED.value)
# On order: open, or still waiting for approval (what is not yet received may still come).
ON_ORDER_STATUSES = (POStatus.PENDING_APPROVAL.value, *OPEN_STATUSES)
# Billable: some goods have arrived.
BILLABLE_STATUSES = (POStatus.PARTIALLY_RECEIVED.value, POStatus.RECEIVED.value)


class TaskStatus(StrEnum):
    WAITING = "waiting"  # a lower level has not decided yet
    PENDING = "pending"  # the current level: its assignee may decide
    APPROVED = "approved"
    REJECTED = "rejected"
    SKIPPED = "skipped"  # never reached because an earlier level rejected


# Approval tasks not yet decided: the current level's, and the levels after it.
OPEN_TASK_STATUSES = (TaskStatus.PENDING.value, TaskStatus.WAITING.value)


class PurchaseOrder(IdMixin, TenantMixin, TimestampMixin, Base):
    __tablename__ = "purchase_orders"
    __table_args__ = (UniqueConstraint("company_id", "number"),)

    number: Mapped[str] = mapped_column(String(32), nullable=False)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("suppliers.id"), index=True)
    warehouse_id: Mapped[int | None] = mapped_column(ForeignKey("warehouses.id"))
    order_date: Mapped[dt.date] = mapped_column(Date, index=True, nullable=False)
    expected_date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    status: Mapped[str] = mapped_column(String(24), index=True, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    subtotal: Mapped[Decimal] = mapped_column(Money(), nullable=False)
    discount_total: Mapped[Decimal] = mapped_column(Money(), nullable=False)
    tax_total: Mapped[Decimal] = mapped_column(Money(), nullable=False)
    total: Mapped[Decimal] = mapped_column(Money(), nullable=False)
    notes: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    cancel_reason: Mapped[str | None] = mapped_column(String(500), nullable=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)

    lines: Mapped[list[PurchaseOrderLine]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="PurchaseOrderLine.line_no"
    )
    tasks: Mapped[list[ApprovalTask]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="ApprovalTask.level"
    )


class PurchaseOrderLine(IdMixin, TenantMixin, Base):
    __tablename__ = "purchase_order_lines"

    order_id: Mapped[int] = mapped_column(ForeignKey("purchase_orders.id"), index=True)
    line_no: Mapped[int] = mapped_column(Integer, nullable=False)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    description: Mapped[str] = mapped_column(String(300), nullable=False)
    quantity: Mapped[Decimal] = mapped_column(Money(18, 3), nullable=False)
    received_quantity: Mapped[Decimal] = mapped_column(Money(18, 3), default=Decimal("0"))
    billed_quantity: Mapped[Decimal] = mapped_column(
        Money(18, 3), default=Decimal("0"), nullable=False
    )
    unit_price: Mapped[Decimal] = mapped_column(Money(), nullable=False)
    discount_pct: Mapped[Decimal] = mapped_column(Money(5, 2), nullable=False)
    tax_rate: Mapped[Decimal] = mapped_column(Money(5, 2), nullable=False)
    net_amount: Mapped[Decimal] = mapped_column(Money(), nullable=False)
    tax_amount: Mapped[Decimal] = mapped_column(Money(), nullable=False)

    order: Mapped[PurchaseOrder] = relationship(back_populates="lines")


class ApprovalLevel(IdMixin, TenantMixin, Base):
    """An approval level of a company: orders whose total reaches ``min_amount`` need it."""

    __tablename__ = "approval_levels"
    __table_args__ = (UniqueConstraint("company_id", "level"),)

    level: Mapped[int] = mapped_column(Integer, nullable=False)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    min_amount: Mapped[Decimal] = mapped_column(Money(), nullable=False)
    role: Mapped[str] = mapped_column(String(32), nullable=False)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)


class ApprovalTask(IdMixin, TenantMixin, TimestampMixin, Base):
    """One level's decision on one purchase order, assigned to a role or a user."""

    __tablename__ = "approval_tasks"
    __table_args__ = (UniqueConstraint("order_id", "level"),)

    order_id: Mapped[int] = mapped_column(ForeignKey("purchase_orders.id"), index=True)
    level: Mapped[int] = mapped_column(Integer, nullable=False)
    assigned_role: Mapped[str] = mapped_column(String(32), nullable=False)
    assigned_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True, nullable=False)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)

    order: Mapped[PurchaseOrder] = relationship(back_populates="tasks")
