"""Shapes the ledger takes in and gives out (API and assistant)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from companion.erp.ledger.models import JournalVoucher


class JournalLineIn(BaseModel):
    """One line of a voucher to post: one side positive, the other zero."""

    model_config = ConfigDict(extra="forbid")

    account_id: int
    debit: Decimal = Decimal("0")
    credit: Decimal = Decimal("0")
    description: str | None = Field(default=None, max_length=300)
    customer_id: int | None = None
    supplier_id: int | None = None


class AccountOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    name: str
    account_type: str
    role: str | None
    is_bank: bool


class AccountBalanceOut(AccountOut):
    debit: Decimal
    credit: Decimal
    balance: Decimal


class BankAccountOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    bank_name: str
    account_number: str
    currency: str
    gl_account_id: int
    gl_account_code: str
    is_active: bool
    balance: Decimal


class JournalLineOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    line_no: int
    account_id: int
    account_code: str
    account_name: str
    debit: Decimal
    credit: Decimal
    description: str | None
    customer_id: int | None
    supplier_id: int | None


class VoucherOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    number: str
    voucher_date: dt.date
    memo: str
    source_type: str | None
    source_id: int | None
    reverses_id: int | None
    reversed_by_id: int | None = None
    total: Decimal
    lines: list[JournalLineOut]


class TrialBalanceRowOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    account_id: int
    code: str
    name: str
    account_type: str
    debit: Decimal
    credit: Decimal


class TrialBalanceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    as_of: dt.date | None
    rows: list[TrialBalanceRowOut]
    total_debit: Decimal
    total_credit: Decimal
    balanced: bool


def voucher_out(voucher: JournalVoucher, *, reversed_by_id: int | None = None) -> VoucherOut:
    """A voucher with its lines, each naming its account."""
    lines = [
        JournalLineOut(
            line_no=line.line_no,
            account_id=line.account_id,
            account_code=line.account.code,
            account_name=line.account.name,
            debit=line.debit,
            credit=line.credit,
            description=line.description,
            customer_id=line.customer_id,
            supplier_id=line.supplier_id,
        )
        for line in voucher.lines
    ]
    return VoucherOut(
        id=voucher.id,
        number=voucher.number,
        voucher_date=voucher.voucher_date,
        memo=voucher.memo,
        source_type=voucher.source_type,
        source_id=voucher.source_id,
        reverses_id=voucher.reverses_id,
        reversed_by_id=reversed_by_id,
        total=sum((line.debit for line in lines), Decimal("0.00")),
        lines=lines,
    )
