"""Chart of accounts, bank accounts, and double-entry journal vouchers."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from companion.kit.db import Base, IdMixin, Money, TenantMixin, TimestampMixin


class AccountType(StrEnum):
    ASSET = "asset"
    LIABILITY = "liability"
    EQUITY = "equity"
    INCOME = "income"
    EXPENSE = "expense"


class AccountRole(StrEnum):
    """Accounts the services post to without being told which."""

    RECEIVABLE = "receivable"
    PAYABLE = "payable"
    REVENUE = "revenue"
    EXPENSE = "expense"
    INVENTORY = "inventory"
    COGS = "cogs"
    TAX_OUTPUT = "tax_output"
    TAX_INPUT = "tax_input"
    EQUITY = "equity"
    STOCK_ADJUSTMENT = "stock_adjustment"


class Account(IdMixin, TenantMixin, TimestampMixin, Base):
    __tablename__ = "accounts"
    __table_args__ = (
        UniqueConstraint("company_id", "code"),
        UniqueConstraint("company_id", "role"),
    )

    code: Mapped[str] = mapped_column(String(16), nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    account_type: Mapped[str] = mapped_column(String(16), nullable=False)
    role: Mapped[str | None] = mapped_column(String(32), nullable=True)
    is_bank: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)


class BankAccount(IdMixin, TenantMixin, TimestampMixin, Base):
    __tablename__ = "bank_accounts"
    __table_args__ = (UniqueConstraint("company_id", "name"),)

    name: Mapped[str] = mapped_column(String(200), nullable=False)
    bank_name: Mapped[str] = mapped_column(String(200), nullable=False)
    account_number: Mapped[str] = mapped_column(String(64), nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    gl_account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), nullable=False)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)


class JournalVoucher(IdMixin, TenantMixin, TimestampMixin, Base):
    """A posted, balanced voucher. Never updated: voiding posts a reversal that points back."""

    __tablename__ = "journal_vouchers"
    __table_args__ = (UniqueConstraint("company_id", "number"),)

    number: Mapped[str] = mapped_column(String(32), nullable=False)
    voucher_date: Mapped[dt.date] = mapped_column(Date, index=True, nullable=False)
    memo: Mapped[str] = mapped_column(String(500), nullable=False)
    source_type: Mapped[str | None] = mapped_column(String(32), nullable=True)
    source_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    reverses_id: Mapped[int | None] = mapped_column(
        ForeignKey("journal_vouchers.id"), unique=True, nullable=True
    )
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)

    lines: Mapped[list[JournalLine]] = relationship(
        back_populates="voucher", cascade="all, delete-orphan", order_by="JournalLine.line_no"
    )


class JournalLine(IdMixin, TenantMixin, Base):
    __tablename__ = "journal_lines"
    __table_args__ = (
        CheckConstraint(
            "(debit >= 0 AND credit >= 0) AND (debit = 0 OR credit = 0) AND (debit + credit > 0)",
            name="one_sided_positive",
        ),
    )

    voucher_id: Mapped[int] = mapped_column(ForeignKey("journal_vouchers.id"), index=True)
    line_no: Mapped[int] = mapped_column(Integer, nullable=False)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    debit: Mapped[Decimal] = mapped_column(Money(), nullable=False)
    credit: Mapped[Decimal] = mapped_column(Money(), nullable=False)
    description: Mapped[str | None] = mapped_column(String(300), nullable=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), nullable=True)
    supplier_id: Mapped[int | None] = mapped_column(ForeignKey("suppliers.id"), nullable=True)

    voucher: Mapped[JournalVoucher] = relationship(back_populates="lines")
