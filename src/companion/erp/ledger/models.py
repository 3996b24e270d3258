"""Chart of accounts, bank accounts, and double-entry journal vouchers."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ColumnElement,
    Date,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
    case,
    event,
)
from sqlalchemy.orm import Mapped, ORMExecuteState, Session, mapped_column, relationship

from companion.errors import InvalidState
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
    account: Mapped[Account] = relationship(lazy="joined", innerjoin=True, viewonly=True)


class AccountDay(IdMixin, TenantMixin, Base):
    """Debits, credits and lines per account and voucher date, kept by the ledger.

    Posting a voucher adds its lines here in the same transaction (``repository.
    add_account_days``), so a balance or a period's movements read one row per account and
    day instead of every journal line: what keeps cash, cash flow and profit and loss flat
    as the history grows. Derived: rebuilt from the journal by migration 0013.
    """

    __tablename__ = "account_days"
    __table_args__ = (UniqueConstraint("company_id", "account_id", "day"),)

    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), nullable=False)
    day: Mapped[dt.date] = mapped_column(Date, nullable=False)
    debit: Mapped[Decimal] = mapped_column(Money(), nullable=False)
    credit: Mapped[Decimal] = mapped_column(Money(), nullable=False)
    lines: Mapped[int] = mapped_column(Integer, nullable=False)


# Profit and loss reads income and expense accounts (docs/decisions/0002).
PROFIT_AND_LOSS_TYPES = (AccountType.INCOME.value, AccountType.EXPENSE.value)


def profit_and_loss_amount(debit: Any, credit: Any) -> ColumnElement[Decimal]:
    """An account's amount in profit and loss (joined to ``Account``): income accounts
    credit - debit, expense accounts debit - credit; net profit = income - expenses."""
    return case(
        (Account.account_type == AccountType.INCOME.value, credit - debit),
        else_=debit - credit,
    )


class PostedVoucherImmutable(InvalidState):
    """A posted voucher or line was about to be changed or deleted."""

    code = "posted_voucher_immutable"


_LEDGER_ROWS = (JournalVoucher, JournalLine)


@event.listens_for(Session, "before_flush")
def _refuse_changes_to_posted_vouchers(
    session: Session, flush_context: Any, instances: Any
) -> None:
    """The ledger is append-only: a mistake is corrected by a reversal, never by an edit."""
    for obj in session.deleted:
        if isinstance(obj, _LEDGER_ROWS):
            raise PostedVoucherImmutable(
                f"{type(obj).__name__} {obj.id} is posted and cannot be deleted; post a reversal"
            )
    for obj in session.dirty:
        if isinstance(obj, _LEDGER_ROWS) and session.is_modified(obj, include_collections=False):
            raise PostedVoucherImmutable(
                f"{type(obj).__name__} {obj.id} is posted and cannot be changed; post a reversal"
            )
    for obj in session.new:
        if isinstance(obj, JournalLine) and _attaches_to_posted_voucher(session, obj):
            raise PostedVoucherImmutable(
                f"Voucher {obj.voucher_id or obj.voucher.id} is posted; lines cannot be added to it"
            )


def _attaches_to_posted_voucher(session: Session, line: JournalLine) -> bool:
    voucher = line.voucher
    if voucher is None:
        # Only a voucher already in the database has an id to point at.
        return line.voucher_id is not None
    return voucher not in session.new


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_changes_to_vouchers(state: ORMExecuteState) -> None:
    """Bulk UPDATE/DELETE statements skip ``before_flush``; refuse them here."""
    if not (state.is_update or state.is_delete):
        return
    mapper = state.bind_mapper
    if mapper is not None and mapper.class_ in _LEDGER_ROWS:
        raise PostedVoucherImmutable(
            f"Bulk {'update' if state.is_update else 'delete'} of {mapper.class_.__name__} "
            "is refused: the ledger is append-only"
        )
