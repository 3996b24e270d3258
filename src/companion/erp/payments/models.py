"""Customer receipts and supplier payments, and their allocations to invoices and bills."""

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
from sqlalchemy.orm import Mapped, mapped_column, relationship

from companion.erp.invoicing.models import Invoice
from companion.kit.db import Base, IdMixin, Money, TenantMixin, TimestampMixin


class PaymentKind(StrEnum):
    RECEIPT = "receipt"  # money in from a customer: RCPT-
    PAYMENT = "payment"  # money out to a supplier: PAY-


class PaymentStatus(StrEnum):
    POSTED = "posted"
    VOID = "void"


class Payment(IdMixin, TenantMixin, TimestampMixin, Base):
    __tablename__ = "payments"
    __table_args__ = (
        UniqueConstraint("company_id", "number"),
        CheckConstraint("amount > 0", name="amount_positive"),
    )

    kind: Mapped[str] = mapped_column(String(8), index=True, nullable=False)
    number: Mapped[str] = mapped_column(String(32), nullable=False)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    supplier_id: Mapped[int | None] = mapped_column(ForeignKey("suppliers.id"), index=True)
    bank_account_id: Mapped[int] = mapped_column(ForeignKey("bank_accounts.id"), index=True)
    payment_date: Mapped[dt.date] = mapped_column(Date, index=True, nullable=False)
    amount: Mapped[Decimal] = mapped_column(Money(), nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    status: Mapped[str] = mapped_column(String(8), nullable=False)
    reference: Mapped[str | None] = mapped_column(String(64), nullable=True)
    journal_id: Mapped[int | None] = mapped_column(ForeignKey("journal_vouchers.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)

    allocations: Mapped[list[PaymentAllocation]] = relationship(
        back_populates="payment", cascade="all, delete-orphan"
    )

    @property
    def allocated(self) -> Decimal:
        """The part of the payment already allocated to invoices or bills."""
        return sum((a.amount for a in self.allocations), Decimal("0.00"))


class PaymentAllocation(IdMixin, TenantMixin, Base):
    __tablename__ = "payment_allocations"
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)

    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id"), index=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Money(), nullable=False)

    payment: Mapped[Payment] = relationship(back_populates="allocations")
    invoice: Mapped[Invoice] = relationship(viewonly=True)


def is_posted(kind: PaymentKind) -> ColumnElement[bool]:
    """Posted receipts (money in from customers) or payments (money out to suppliers), by
    payment date: the one definition of receipts and of supplier payments."""
    return and_(Payment.kind == kind.value, Payment.status == PaymentStatus.POSTED.value)
