"""The ledger keeps ``account_days`` equal to its journal lines, posting by posting."""

import datetime as dt
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from companion.erp.ledger.models import Account, AccountDay, JournalLine, JournalVoucher
from companion.erp.ledger.service import JournalLineIn, post_journal, reverse_journal
from finance_factories import make_books

D = Decimal


def _from_lines(session: Session, company_id: int) -> dict[tuple[int, dt.date], tuple]:
    rows = session.execute(
        select(
            JournalLine.account_id,
            JournalVoucher.voucher_date,
            func.sum(JournalLine.debit),
            func.sum(JournalLine.credit),
            func.count(),
        )
        .join(JournalVoucher, JournalVoucher.id == JournalLine.voucher_id)
        .where(JournalLine.company_id == company_id)
        .group_by(JournalLine.account_id, JournalVoucher.voucher_date)
    ).all()
    return {(a, day): (D(str(d)).quantize(D("0.01")), D(str(c)).quantize(D("0.01")), n)
            for a, day, d, c, n in rows}  # fmt: skip


def _kept(session: Session, company_id: int) -> dict[tuple[int, dt.date], tuple]:
    rows = session.execute(
        select(
            AccountDay.account_id,
            AccountDay.day,
            AccountDay.debit,
            AccountDay.credit,
            AccountDay.lines,
        ).where(AccountDay.company_id == company_id)  # fmt: skip
    ).all()
    return {(a, day): (d, c, n) for a, day, d, c, n in rows}


def test_postings_and_reversals_add_up_per_account_and_day(session: Session) -> None:
    books = make_books(session, "days", opening="1000.00")
    other = make_books(session, "days-other", opening="77.00")
    ctx = books.ctx
    rent, utilities = (
        session.execute(
            select(Account.id).where(Account.company_id == ctx.company_id, Account.code == code)
        ).scalar_one()
        for code in ("6200", "6400")
    )
    gl = books.bank.gl_account_id
    feb = dt.date(2026, 2, 1)
    vouchers = []
    for amount in ("500.00", "0.10", "0.20"):  # the same accounts and day, three times
        vouchers.append(
            post_journal(
                session,
                ctx,
                voucher_date=feb,
                memo="Rent",
                lines=[
                    JournalLineIn(account_id=rent, debit=D(amount)),
                    JournalLineIn(account_id=gl, credit=D(amount)),
                ],
            )  # fmt: skip
        )
    # two lines on one account in one voucher, and another day
    post_journal(session, ctx, voucher_date=feb + dt.timedelta(days=3), memo="Split", lines=[
        JournalLineIn(account_id=rent, debit=D("1.05")),
        JournalLineIn(account_id=utilities, debit=D("2.00")),
        JournalLineIn(account_id=rent, debit=D("3.95")),
        JournalLineIn(account_id=gl, credit=D("7.00")),
    ])  # fmt: skip
    reverse_journal(session, ctx, vouchers[0].id, on=feb, memo="Entered twice")
    session.flush()

    kept = _kept(session, ctx.company_id)
    assert kept == _from_lines(session, ctx.company_id)
    assert kept[(rent, feb)] == (D("500.30"), D("500.00"), 4)
    assert kept[(rent, feb + dt.timedelta(days=3))] == (D("5.00"), D("0.00"), 2)
    # the other company's rows are its own
    assert _kept(session, other.ctx.company_id) == _from_lines(session, other.ctx.company_id)
    assert {a for a, _ in _kept(session, other.ctx.company_id)}.isdisjoint({a for a, _ in kept})
