"""Cash, cash flow and profit and loss, straight from the journal.

Definitions:
- cash: the sum of debit - credit of the journal lines on each bank account's GL account,
  over vouchers dated up to ``as_of`` (default today).
- cash flow: for each bank account in the period (default this month so far), inflow =
  debits to its GL account, outflow = credits; opening = balance the day before the period,
  closing = opening + inflow - outflow. A transfer between two bank accounts is an outflow
  of one and an inflow of the other.
- profit and loss: journal lines in the period (default this month so far) on income
  accounts (credit - debit) and expense accounts (debit - credit); net profit = income -
  expenses.

Every figure reads ``account_days``, the ledger's own totals of the journal lines per
account and voucher date (kept in the transaction that posts each voucher), so it costs a
few rows per account and day however many lines the journal holds; ``count`` is still the
number of journal lines behind the figure.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import Session

from companion.assistant.answers import percent_text
from companion.assistant.queries.common import (
    Answer,
    given_filters,
    money_sum,
    month_to_date,
    not_found,
    on_date,
    resolve_period,
)
from companion.assistant.queries.registry import QueryParams, QueryResult, register
from companion.erp.ledger.models import (
    PROFIT_AND_LOSS_TYPES,
    Account,
    AccountDay,
    AccountType,
    BankAccount,
    profit_and_loss_amount,
)
from companion.kit.money import ZERO
from companion.tenancy.context import RequestContext, scoped

_LEDGER_TABLES = ["bank_accounts", "journal_lines", "journal_vouchers"]


def _bank_accounts(
    session: Session, ctx: RequestContext, bank_account_id: int | None
) -> list[BankAccount]:
    stmt = scoped(select(BankAccount), BankAccount, ctx).order_by(BankAccount.name)
    if bank_account_id is not None:
        stmt = stmt.where(BankAccount.id == bank_account_id)
    return list(session.execute(stmt).scalars())


def _journal(ctx: RequestContext, *columns: Any) -> Select[Any]:
    """The journal's totals per account and day, restricted to the caller's company."""
    return scoped(select(*columns).select_from(AccountDay), AccountDay, ctx)


@register(
    "cash_balance",
    figure="ledger",
    filters={"as_of", "bank_account_id"},
    description="Cash in each bank account as of a date",
)
def cash_balance(
    session: Session, ctx: RequestContext, params: QueryParams, today: dt.date
) -> QueryResult:
    """Cash per bank account: journal lines on its GL account up to ``as_of``."""
    as_of = params.as_of or today
    answer = Answer(
        ctx, today, _LEDGER_TABLES, given_filters(params, ["as_of", "bank_account_id"]), as_of
    )
    columns = ["account", "bank", "balance"]
    banks = _bank_accounts(session, ctx, params.bank_account_id)
    if params.bank_account_id is not None and not banks:
        return not_found(answer, columns, "that bank account")
    if not banks:
        return answer.empty(columns, "There are no bank accounts set up yet, so there is no cash.")
    gl_ids = [b.gl_account_id for b in banks]
    sums = {
        account_id: (balance, n)
        for account_id, balance, n in session.execute(
            _journal(
                ctx,
                AccountDay.account_id,
                money_sum(AccountDay.debit - AccountDay.credit),
                func.coalesce(func.sum(AccountDay.lines), 0),
            )
            .where(AccountDay.account_id.in_(gl_ids), AccountDay.day <= as_of)
            .group_by(AccountDay.account_id)
        )
    }
    rows: list[list[Any]] = []
    count = 0
    for bank in banks:
        balance, n = sums.get(bank.gl_account_id, (ZERO, 0))
        count += n
        if bank.is_active or balance != 0 or params.bank_account_id is not None:
            rows.append([bank.name, bank.bank_name, balance])
    rows.sort(key=lambda r: (-r[2], r[0]))
    total = sum((r[2] for r in rows), ZERO)
    fmt = answer.fmt
    when = on_date(as_of)
    if len(rows) == 1:
        summary = f"Cash in {rows[0][0]} is {fmt.money(total)} {when}."
    else:
        summary = (
            f"Cash across {fmt.count(len(rows), 'bank account')} is {fmt.money(total)} {when}; "
            f"the largest is {rows[0][0]} at {fmt.money(rows[0][2])}."
        )
    return answer.result(columns, rows, {"balance": total}, summary, count)


@register(
    "cash_flow",
    figure="ledger",
    filters={"period", "bank_account_id"},
    description="Money in and out of the bank accounts in a period",
)
def cash_flow(
    session: Session, ctx: RequestContext, params: QueryParams, today: dt.date
) -> QueryResult:
    """Bank inflows (debits) and outflows (credits) in the period, per bank account."""
    window = resolve_period(params, today, month_to_date)
    filters = {"period": window.filter_value(), **given_filters(params, ["bank_account_id"])}
    answer = Answer(ctx, today, _LEDGER_TABLES, filters, window.end)
    columns = ["account", "opening", "inflow", "outflow", "net", "closing"]
    banks = _bank_accounts(session, ctx, params.bank_account_id)
    if params.bank_account_id is not None and not banks:
        return not_found(answer, columns, "that bank account")
    if not banks:
        return answer.empty(columns, "There are no bank accounts set up yet, so no cash flow.")
    in_period = AccountDay.day >= window.start
    figures = {
        row[0]: row[1:]
        for row in session.execute(
            _journal(
                ctx,
                AccountDay.account_id,
                money_sum(case((~in_period, AccountDay.debit - AccountDay.credit), else_=0)),
                money_sum(case((in_period, AccountDay.debit), else_=0)),
                money_sum(case((in_period, AccountDay.credit), else_=0)),
                func.coalesce(func.sum(case((in_period, AccountDay.lines), else_=0)), 0),
            )
            .where(
                AccountDay.account_id.in_([b.gl_account_id for b in banks]),
                AccountDay.day <= window.end,
            )
            .group_by(AccountDay.account_id)
        )
    }
    rows: list[list[Any]] = []
    totals = dict.fromkeys(columns[1:], ZERO)
    count = 0
    for bank in banks:
        opening, inflow, outflow, n = figures.get(bank.gl_account_id, (ZERO, ZERO, ZERO, 0))
        count += n
        if not (bank.is_active or opening or n or params.bank_account_id is not None):
            continue
        values = [opening, inflow, outflow, inflow - outflow, opening + inflow - outflow]
        rows.append([bank.name, *values])
        for key, value in zip(columns[1:], values, strict=True):
            totals[key] += value
    fmt = answer.fmt
    where = f"{rows[0][0]}" if len(rows) == 1 else f"the {fmt.count(len(rows), 'bank account')}"
    net = totals["net"]
    direction = "a net inflow" if net >= 0 else "a net outflow"
    summary = (
        f"In {window.text()}, {fmt.money(totals['inflow'])} came into {where} and "
        f"{fmt.money(totals['outflow'])} went out, {direction} of {fmt.money(abs(net))}; "
        f"cash went from {fmt.money(totals['opening'])} to {fmt.money(totals['closing'])}."
    )
    return answer.result(columns, rows, totals, summary, count)


@register(
    "profit_and_loss",
    figure="ledger",
    filters={"period"},
    description="Income, expenses and net profit for a period",
)
def profit_and_loss(
    session: Session, ctx: RequestContext, params: QueryParams, today: dt.date
) -> QueryResult:
    """Income and expense accounts' journal lines in the period, and the net profit."""
    window = resolve_period(params, today, month_to_date)
    answer = Answer(
        ctx,
        today,
        ["accounts", "journal_lines", "journal_vouchers"],
        {"period": window.filter_value()},
        window.end,
    )
    columns = ["code", "account", "type", "amount"]
    income_sign = profit_and_loss_amount(AccountDay.debit, AccountDay.credit)
    stmt = (
        scoped(
            _journal(
                ctx,
                Account.code,
                Account.name,
                Account.account_type,
                money_sum(income_sign),
                func.coalesce(func.sum(AccountDay.lines), 0),
            ).join(Account, Account.id == AccountDay.account_id),
            Account,
            ctx,
        )
        .where(
            Account.account_type.in_(PROFIT_AND_LOSS_TYPES),
            AccountDay.day >= window.start,
            AccountDay.day <= window.end,
        )
        .group_by(Account.code, Account.name, Account.account_type)
    )
    rows: list[list[Any]] = []
    income = expenses = ZERO
    count = 0
    for code, name, account_type, amount, n in session.execute(stmt):
        count += n
        rows.append([code, name, account_type, amount])
        if account_type == AccountType.INCOME.value:
            income += amount
        else:
            expenses += amount
    # income first, then expenses, each by account code
    rows.sort(key=lambda r: (r[2] != AccountType.INCOME.value, r[0]))
    net = income - expenses
    totals = {"income": income, "expenses": expenses, "net_profit": net}
    fmt = answer.fmt
    if not rows:
        summary = f"Nothing was posted to income or expense accounts in {window.text()}."
        return answer.result(columns, rows, totals, summary, 0)
    outcome = "a net profit" if net >= 0 else "a net loss"
    margin = f" ({percent_text(net, income)} of income)" if income > 0 and net > 0 else ""
    summary = (
        f"In {window.text()}, income was {fmt.money(income)} and expenses were "
        f"{fmt.money(expenses)}: {outcome} of {fmt.money(abs(net))}{margin}."
    )
    return answer.result(columns, rows, totals, summary, count)


def bank_balance_total(session: Session, ctx: RequestContext, as_of: dt.date) -> Decimal:
    """All bank accounts' cash as of a date (for the dashboard)."""
    gl_ids = scoped(select(BankAccount.gl_account_id), BankAccount, ctx)
    total = session.execute(
        _journal(ctx, money_sum(AccountDay.debit - AccountDay.credit)).where(
            AccountDay.account_id.in_(gl_ids), AccountDay.day <= as_of
        )
    ).scalar_one()
    return Decimal(total)
