"""HTTP endpoints of the ledger: accounts, bank accounts, vouchers and the trial balance."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from companion.erp.ledger import repository as repo
from companion.erp.ledger.schemas import (
    AccountBalanceOut,
    AccountOut,
    BankAccountOut,
    TrialBalanceOut,
    TrialBalanceRowOut,
    VoucherOut,
    voucher_out,
)
from companion.kit.fields import Text
from companion.tenancy.context import RequestContext
from companion.web.deps import Page, PageDep, QueryId, RecordId, SessionDep
from companion.web.figures import require_figure

router = APIRouter(tags=["ledger"])

FinanceReader = Annotated[RequestContext, Depends(require_figure("ledger"))]
AsOf = Annotated[dt.date | None, Query(description="Include vouchers dated up to this day")]


@router.get("/accounts", response_model=list[AccountOut])
def list_accounts(session: SessionDep, ctx: FinanceReader) -> list[AccountOut]:
    """The chart of accounts of the active company, by code."""
    return [AccountOut.model_validate(a) for a in repo.list_accounts(session, ctx)]


@router.get("/accounts/balances", response_model=list[AccountBalanceOut])
def account_balances(
    session: SessionDep, ctx: FinanceReader, as_of: AsOf = None
) -> list[AccountBalanceOut]:
    """Every account with its balance in its normal sign (assets and expenses debit)."""
    return [
        AccountBalanceOut(
            id=b.account_id,
            code=b.code,
            name=b.name,
            account_type=b.account_type,
            role=b.role,
            is_bank=b.is_bank,
            debit=b.debit,
            credit=b.credit,
            balance=b.balance,
        )
        for b in repo.account_balances(session, ctx, as_of=as_of)
    ]


@router.get("/bank-accounts", response_model=list[BankAccountOut])
def list_bank_accounts(
    session: SessionDep, ctx: FinanceReader, as_of: AsOf = None
) -> list[BankAccountOut]:
    """Bank accounts with their balance (today's unless ``as_of`` is given)."""
    return [
        BankAccountOut(
            id=b.bank_account.id,
            name=b.bank_account.name,
            bank_name=b.bank_account.bank_name,
            account_number=b.bank_account.account_number,
            currency=b.bank_account.currency,
            gl_account_id=b.bank_account.gl_account_id,
            gl_account_code=b.gl_account_code,
            is_active=b.bank_account.is_active,
            balance=b.balance,
        )
        for b in repo.bank_balances(session, ctx, as_of=as_of)
    ]


@router.get("/journal-vouchers", response_model=Page[VoucherOut])
def list_vouchers(
    session: SessionDep,
    ctx: FinanceReader,
    page: PageDep,
    from_date: Annotated[dt.date | None, Query(alias="from")] = None,
    to_date: Annotated[dt.date | None, Query(alias="to")] = None,
    source_type: Annotated[Text | None, Query(max_length=32)] = None,
    source_id: QueryId = None,
    account_id: QueryId = None,
    q: Annotated[Text | None, Query(max_length=64, description="Number contains")] = None,
) -> Page[VoucherOut]:
    """Journal vouchers, newest first, each with its lines."""
    rows, total = repo.list_vouchers(
        session,
        ctx,
        from_date=from_date,
        to_date=to_date,
        source_type=source_type,
        source_id=source_id,
        account_id=account_id,
        q=q,
        limit=page.limit,
        offset=page.offset,
    )
    reversed_by = repo.reversal_ids(session, ctx, (v.id for v in rows))
    return Page[VoucherOut](
        items=[voucher_out(v, reversed_by_id=reversed_by.get(v.id)) for v in rows],
        total=total,
        limit=page.limit,
        offset=page.offset,
    )


@router.get("/journal-vouchers/{voucher_id}", response_model=VoucherOut)
def get_voucher(session: SessionDep, ctx: FinanceReader, voucher_id: RecordId) -> VoucherOut:
    """One journal voucher with its lines, and the voucher that reversed it if any."""
    voucher = repo.get_voucher(session, ctx, voucher_id)
    reversal = repo.reversal_of(session, ctx, voucher.id)
    return voucher_out(voucher, reversed_by_id=reversal.id if reversal else None)


@router.get("/reports/trial-balance", response_model=TrialBalanceOut)
def trial_balance(session: SessionDep, ctx: FinanceReader, as_of: AsOf = None) -> TrialBalanceOut:
    """The trial balance: every account's net movement in one column; the columns agree."""
    tb = repo.trial_balance(session, ctx, as_of=as_of)
    return TrialBalanceOut(
        as_of=tb.as_of,
        rows=[TrialBalanceRowOut.model_validate(r) for r in tb.rows],
        total_debit=tb.total_debit,
        total_credit=tb.total_credit,
        balanced=tb.balanced,
    )
