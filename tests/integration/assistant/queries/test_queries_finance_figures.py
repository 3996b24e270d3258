"""Cash, cash flow and P&L: every figure equals hand-written SQL over the journal."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from query_sql import TODAY, ask, dec, money_text, sql
from query_world import World
from sqlalchemy.orm import Session


def bank_balances(session: Session, company_id: int, as_of: dt.date) -> list[list[Any]]:
    rows = sql(
        session,
        """
        SELECT b.name, b.bank_name,
               SUM(CASE WHEN v.voucher_date <= :as_of THEN l.debit - l.credit ELSE 0 END)
        FROM bank_accounts b
        LEFT JOIN journal_lines l ON l.account_id = b.gl_account_id
        LEFT JOIN journal_vouchers v ON v.id = l.voucher_id
        WHERE b.company_id = :c
        GROUP BY b.id, b.name, b.bank_name
        """,
        c=company_id,
        as_of=as_of,
    )
    out = [[name, bank, dec(bal)] for name, bank, bal in rows]
    return sorted(out, key=lambda r: (-r[2], r[0]))


def test_cash_balance_matches_the_bank_gl_accounts(qs: Session, a: World) -> None:
    ctx = a.ctx["finance"]
    result = ask(qs, ctx, "cash_balance")
    expected = bank_balances(qs, a.id, TODAY)
    assert result.rows == expected
    total = sum((r[2] for r in expected), Decimal("0.00"))
    assert result.totals == {"balance": total}
    assert result.currency == "BDT"
    assert result.columns == ["account", "bank", "balance"]
    assert money_text(ctx, total) in result.summary
    assert "," in money_text(ctx, total)  # Indian-style grouping written out
    assert f"the largest is {expected[0][0]}" in result.summary
    assert result.provenance.record_count > 0
    assert result.provenance.as_of.date() == TODAY


def test_cash_balance_as_of_and_bank_filters(qs: Session, a: World, b: World) -> None:
    ctx = a.ctx["finance"]
    march = dt.date(2026, 3, 15)
    earlier = ask(qs, ctx, "cash_balance", as_of=march)
    assert earlier.rows == bank_balances(qs, a.id, march)
    assert earlier.totals != ask(qs, ctx, "cash_balance").totals
    assert "as of 15 Mar 2026" in earlier.summary
    assert earlier.provenance.filters == {"as_of": "2026-03-15"}

    savings = a.banks[1]
    one = ask(qs, ctx, "cash_balance", bank_account_id=savings.id)
    expected = [r for r in bank_balances(qs, a.id, TODAY) if r[0] == savings.name]
    assert one.rows == expected
    assert one.summary.startswith(f"Cash in {savings.name} is ")

    foreign = ask(qs, ctx, "cash_balance", bank_account_id=b.banks[0].id)
    missing = ask(qs, ctx, "cash_balance", bank_account_id=987654)
    assert foreign.rows == missing.rows == []
    assert foreign.summary == missing.summary == "I couldn't find that bank account."


def flows(
    session: Session, company_id: int, start: dt.date, end: dt.date
) -> dict[str, list[Decimal]]:
    rows = sql(
        session,
        """
        SELECT b.name,
               SUM(CASE WHEN v.voucher_date < :s THEN l.debit - l.credit ELSE 0 END),
               SUM(CASE WHEN v.voucher_date >= :s AND v.voucher_date <= :e
                        THEN l.debit ELSE 0 END),
               SUM(CASE WHEN v.voucher_date >= :s AND v.voucher_date <= :e
                        THEN l.credit ELSE 0 END)
        FROM bank_accounts b
        JOIN journal_lines l ON l.account_id = b.gl_account_id AND l.company_id = :c
        JOIN journal_vouchers v ON v.id = l.voucher_id AND v.company_id = :c
        WHERE b.company_id = :c
        GROUP BY b.name
        """,
        c=company_id,
        s=start,
        e=end,
    )
    return {name: [dec(o), dec(i), dec(out)] for name, o, i, out in rows}


def test_cash_flow_defaults_to_this_month(qs: Session, a: World) -> None:
    ctx = a.ctx["finance"]
    result = ask(qs, ctx, "cash_flow")
    expected = flows(qs, a.id, dt.date(2026, 6, 1), TODAY)
    assert [r[0] for r in result.rows] == sorted(b.name for b in a.banks)
    for name, opening, inflow, outflow, net, closing in result.rows:
        o, i, out = expected[name]
        assert (opening, inflow, outflow) == (o, i, out)
        assert net == i - out and closing == o + i - out
    assert result.totals["inflow"] == sum((v[1] for v in expected.values()), Decimal("0.00"))
    assert result.totals["outflow"] == sum((v[2] for v in expected.values()), Decimal("0.00"))
    # closing cash is the cash balance at the end of the period
    assert result.totals["closing"] == ask(qs, ctx, "cash_balance").totals["balance"]
    assert "this month so far (1–15 Jun 2026)" in result.summary
    assert result.provenance.filters["period"] == "2026-06-01..2026-06-15"


def test_cash_flow_period_and_bank_filters(qs: Session, a: World) -> None:
    ctx = a.ctx["finance"]
    may = {"start": dt.date(2026, 5, 1), "end": dt.date(2026, 5, 31)}
    result = ask(qs, ctx, "cash_flow", period=may)
    expected = flows(qs, a.id, may["start"], may["end"])
    assert {r[0]: r[1:4] for r in result.rows} == expected
    assert "In May 2026," in result.summary
    assert result.totals != ask(qs, ctx, "cash_flow").totals

    city = a.banks[0]
    one = ask(qs, ctx, "cash_flow", period=may, bank_account_id=city.id)
    assert [r[0] for r in one.rows] == [city.name]
    assert one.rows[0][1:4] == expected[city.name]


def pnl(session: Session, company_id: int, start: dt.date, end: dt.date) -> list[list[Any]]:
    rows = sql(
        session,
        """
        SELECT a.code, a.name, a.account_type,
               SUM(CASE WHEN a.account_type = 'income' THEN l.credit - l.debit
                        ELSE l.debit - l.credit END)
        FROM journal_lines l
        JOIN journal_vouchers v ON v.id = l.voucher_id
        JOIN accounts a ON a.id = l.account_id
        WHERE l.company_id = :c AND v.company_id = :c AND a.company_id = :c
          AND a.account_type IN ('income', 'expense')
          AND v.voucher_date BETWEEN :s AND :e
        GROUP BY a.code, a.name, a.account_type
        """,
        c=company_id,
        s=start,
        e=end,
    )
    out = [[code, name, kind, dec(amount)] for code, name, kind, amount in rows]
    return sorted(out, key=lambda r: (r[2] != "income", r[0]))


def test_profit_and_loss_this_month_and_a_given_period(qs: Session, a: World) -> None:
    ctx = a.ctx["finance"]
    result = ask(qs, ctx, "profit_and_loss")
    expected = pnl(qs, a.id, dt.date(2026, 6, 1), TODAY)
    assert result.rows == expected
    income = sum((r[3] for r in expected if r[2] == "income"), Decimal("0.00"))
    expenses = sum((r[3] for r in expected if r[2] == "expense"), Decimal("0.00"))
    assert result.totals == {
        "income": income,
        "expenses": expenses,
        "net_profit": income - expenses,
    }
    assert money_text(ctx, income) in result.summary
    assert "this month so far" in result.summary
    # rent, cost of goods sold and sales are all in June
    assert {r[0] for r in expected} >= {"4000", "5000", "6200"}

    half = {"start": dt.date(2026, 1, 1), "end": dt.date(2026, 6, 30)}
    year = ask(qs, ctx, "profit_and_loss", period=half)
    assert year.rows == pnl(qs, a.id, half["start"], half["end"])
    assert year.totals["income"] > income
    assert "1 Jan – 30 Jun 2026" in year.summary

    empty = ask(qs, ctx, "profit_and_loss", period={"start": "2020-01-01", "end": "2020-01-31"})
    assert empty.rows == []
    assert empty.summary == "Nothing was posted to income or expense accounts in January 2020."
