"""The vouchers stock flows cause: adjustments and the cost of goods delivered."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

from sqlalchemy.orm import Session

from companion.erp.ledger.models import AccountRole, JournalVoucher
from companion.erp.ledger.service import JournalLineIn, accounts_for_roles, post_journal
from companion.kit.money import ZERO, money
from companion.tenancy.context import RequestContext


def stock_value(quantity: Decimal, unit_cost: Decimal) -> Decimal:
    """Quantity at unit cost, in cents."""
    return money(quantity * unit_cost)


def post_stock_journal(
    session: Session,
    ctx: RequestContext,
    *,
    on: dt.date,
    memo: str,
    debit: AccountRole,
    credit: AccountRole,
    amount: Decimal,
    source_type: str,
    source_id: int,
) -> JournalVoucher | None:
    """Dr ``debit`` / Cr ``credit`` for ``amount``; nothing to post when the value is zero."""
    if amount == ZERO:
        return None
    accounts = accounts_for_roles(session, ctx.company_id, debit, credit)
    debit_account, credit_account = accounts[debit], accounts[credit]
    return post_journal(
        session,
        _posting_context(ctx),
        voucher_date=on,
        memo=memo,
        lines=[
            JournalLineIn(account_id=debit_account.id, debit=amount),
            JournalLineIn(account_id=credit_account.id, credit=amount),
        ],
        source_type=source_type,
        source_id=source_id,
    )


def _posting_context(ctx: RequestContext) -> RequestContext:
    # The stock flow was authorised by its own permission (inventory.adjust, sales.write);
    # the voucher is its bookkeeping consequence, not a separate finance act, so a
    # storekeeper need not hold finance.post. The audit log still names the real user.
    return dataclasses.replace(ctx, permissions=ctx.permissions | {"finance.post"})
