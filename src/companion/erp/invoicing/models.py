"""AR invoices (to customers) and AP bills (from suppliers), in one table by ``kind``.

The one home of what invoices mean (docs/decisions/0002): the open, issued and sales
statuses, the open amount, overdue and sales, as SQL expressions every reader imports (the
data queries, the semantic layer, the repositories behind REST, the alert detectors).
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
    Index,
    Integer,
    String,
    UniqueConstraint,
    and_,
    text,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from companion.kit.db import Base, IdMixin, Money, TenantMixin, TimestampMixin


class InvoiceKind(StrEnum):
    AR = "ar"  # an invoice to a customer: INV-
    AP = "ap"  # a bill from a supplier: BILL-


class InvoiceStatus(StrEnum):
    DRAFT = "draft"
    POSTED = "posted"
    PARTIALLY_PAID = "partially_paid"
    PAID = "paid"
    VOID = "void"


# Still owed: posted or partially paid (the open amount is total - amount_paid).
OPEN_STATUSES = (InvoiceStatus.POSTED.value, InvoiceStatus.PARTIALLY_PAID.value)
# Issued and standing: posted, partially paid or paid (never draft or void).
ISSUED_STATUSES = (*OPEN_STATUSES, InvoiceStatus.PAID.value)
# What counts as sold: customer invoices issued, whatever has been paid since.
SALES_STATUSES = ISSUED_STATUSES
# What may still be voided: a draft, or an open document nothing has been paid on.
VOIDABLE_STATUSES = (InvoiceStatus.DRAFT.value, *OPEN_STATUSES)


class Invoice(IdMixin, TenantMixin, TimestampMixin, Base):
    __tablename__ = "invoices"
    __table_args__ = (
        UniqueConstraint("company_id", "number"),
        CheckConstraint(
            "(kind = 'ar' AND customer_id IS NOT NULL AND supplier_id IS NULL) OR "
            "(kind = 'ap' AND supplier_id IS NOT NULL AND customer_id IS NULL)",
            name="party_matches_kind",
        ),
        CheckConstraint("amount_paid >= 0 AND amount_paid <= total", name="paid_within_total"),
        # migration 0013: open documents, and sales by issue date, at a million invoices
        Index(
            "ix_invoices_open",
            "company_id",
            "kind",
            "due_date",
            postgresql_include=["customer_id", "supplier_id", "total", "amount_paid"],
            postgresql_where=text("status IN ('posted', 'partially_paid')"),
            sqlite_where=text("status IN ('posted', 'partially_paid')"),
        ),
        Index(
            "ix_invoices_issued",
            "company_id",
            "kind",
            "issue_date",
            postgresql_include=["status", "customer_id", "subtotal"],
        ),
        # migration 0015: open documents in party order, so the aging's per-party sums
        # stream out of the index (PostgreSQL; SQLite reads a company of demo size)
        Index(
            "ix_invoices_open_party",
            "company_id",
            "kind",
            "customer_id",
            "supplier_id",
            postgresql_include=["due_date", "total", "amount_paid"],
            postgresql_where=text("status IN ('posted', 'partially_paid')"),
        ).ddl_if(dialect="postgresql"),
    )

    kind: Mapped[str] = mapped_column(String(2), index=True, nullable=False)
    number: Mapped[str] = mapped_column(String(32), nullable=False)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    supplier_id: Mapped[int | None] = mapped_column(ForeignKey("suppliers.id"), index=True)
    sales_order_id: Mapped[int | None] = mapped_column(ForeignKey("sales_orders.id"))
    purchase_order_id: Mapped[int | None] = mapped_column(ForeignKey("purchase_orders.id"))
    issue_date: Mapped[dt.date] = mapped_column(Date, index=True, nullable=False)
    due_date: Mapped[dt.date] = mapped_column(Date, index=True, nullable=False)
    status: Mapped[str] = mapped_column(String(16), index=True, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    subtotal: Mapped[Decimal] = mapped_column(Money(), nullable=False)
    discount_total: Mapped[Decimal] = mapped_column(Money(), nullable=False)
    tax_total: Mapped[Decimal] = mapped_column(Money(), nullable=False)
    total: Mapped[Decimal] = mapped_column(Money(), nullable=False)
    amount_paid: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0"), nullable=False)
    journal_id: Mapped[int | None] = mapped_column(ForeignKey("journal_vouchers.id"))
    supplier_reference: Mapped[str | None] = mapped_column(String(64), nullable=True)
    notes: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)

    lines: Mapped[list[InvoiceLine]] = relationship(
        back_populates="invoice", cascade="all, delete-orphan", order_by="InvoiceLine.line_no"
    )

    @hybrid_property
    def open_amount(self) -> Decimal:
        """What is still to be paid (``Invoice.open_amount`` is the same in SQL)."""
        return self.total - self.amount_paid


class InvoiceLine(IdMixin, TenantMixin, Base):
    __tablename__ = "invoice_lines"
    __table_args__ = (
        # migration 0014: sales by item read an invoice's lines index-only (PostgreSQL; on
        # SQLite it would repeat the invoice_id index)
        Index(
            "ix_invoice_lines_sold",
            "invoice_id",
            postgresql_include=["company_id", "item_id", "net_amount", "quantity"],
        ).ddl_if(dialect="postgresql"),
    )

    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), index=True)
    line_no: Mapped[int] = mapped_column(Integer, nullable=False)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id"), index=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    description: Mapped[str] = mapped_column(String(300), nullable=False)
    quantity: Mapped[Decimal] = mapped_column(Money(18, 3), nullable=False)
    unit_price: Mapped[Decimal] = mapped_column(Money(), nullable=False)
    discount_pct: Mapped[Decimal] = mapped_column(Money(5, 2), nullable=False)
    tax_rate: Mapped[Decimal] = mapped_column(Money(5, 2), nullable=False)
    net_amount: Mapped[Decimal] = mapped_column(Money(), nullable=False)
    tax_amount: Mapped[Decimal] = mapped_column(Money(), nullable=False)

    invoice: Mapped[Invoice] = relationship(back_populates="lines")


class SalesMonth(IdMixin, TenantMixin, Base):
    """Sales per customer and calendar month, kept by the ledger.

    Posting a customer invoice adds its subtotal, tax and one invoice to its customer's
    month of issue, voiding it takes them off, in the same transaction
    (``repository.add_sales_month``): the invoices that count as sales (``is_sale``) summed
    by ``SALES_DATE``'s month. Whole months of sales by customer or by month read these rows
    instead of every invoice (analytics). Derived: rebuilt from invoices by migration 0016.
    """

    __tablename__ = "sales_months"
    __table_args__ = (UniqueConstraint("company_id", "month", "customer_id"),)

    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), nullable=False)
    month: Mapped[dt.date] = mapped_column(Date, nullable=False)  # its first day
    amount: Mapped[Decimal] = mapped_column(Money(), nullable=False)  # SALES_AMOUNT
    tax: Mapped[Decimal] = mapped_column(Money(), nullable=False)
    invoices: Mapped[int] = mapped_column(Integer, nullable=False)


def is_open(kind: InvoiceKind | None = None) -> ColumnElement[bool]:
    """Invoices (or bills) still owed: posted or partially paid, of ``kind`` when given."""
    status = Invoice.status.in_(OPEN_STATUSES)
    return status if kind is None else and_(Invoice.kind == kind.value, status)


def is_overdue(today: dt.date, kind: InvoiceKind | None = None) -> ColumnElement[bool]:
    """Open and due before ``today`` (days overdue = today - due date)."""
    return and_(is_open(kind), Invoice.due_date < today)


def is_sale() -> ColumnElement[bool]:
    """Customer invoices that count as sales (``SALES_STATUSES``), dated by ``SALES_DATE``."""
    return and_(Invoice.kind == InvoiceKind.AR.value, Invoice.status.in_(SALES_STATUSES))


# Sales are net of tax, after discounts: an invoice's subtotal, or an item's line net amounts.
SALES_AMOUNT = Invoice.subtotal
SALES_LINE_AMOUNT = InvoiceLine.net_amount
SALES_DATE = Invoice.issue_date
