"""AR/AP aging, overdue invoices, invoice status, balances, top customers, customer list:
every figure equals hand-written SQL (and plain Python date arithmetic)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from query_sql import TODAY, ask, dec, iso, money_text, sql
from query_world import World
from sqlalchemy.orm import Session

from companion.erp.documents import DocLineIn
from companion.erp.invoicing.models import InvoiceKind
from companion.erp.invoicing.service import create_invoice

ZERO = Decimal("0.00")
SIDES = {
    "ar": ("customers", "customer_id", "receipt"),
    "ap": ("suppliers", "supplier_id", "payment"),
}


def open_documents(session: Session, company_id: int, kind: str) -> list[tuple[Any, ...]]:
    """(party, number, issue date, due date, total, paid) of every open invoice or bill."""
    table, column, _ = SIDES[kind]
    return sql(
        session,
        f"""
        SELECT p.name, i.number, i.issue_date, i.due_date, i.total, i.amount_paid
        FROM invoices i JOIN {table} p ON p.id = i.{column}
        WHERE i.company_id = :c AND i.kind = :k AND i.status IN ('posted', 'partially_paid')
        """,
        c=company_id,
        k=kind,
    )


def bucket(days_past_due: int) -> int:
    if days_past_due <= 0:
        return 0
    if days_past_due <= 30:
        return 1
    if days_past_due <= 60:
        return 2
    if days_past_due <= 90:
        return 3
    return 4


def expected_aging(session: Session, company_id: int, kind: str) -> list[list[Any]]:
    per_party: dict[str, list[Decimal]] = {}
    for party, _, _, due, total, paid in open_documents(session, company_id, kind):
        days = (TODAY - dt.date.fromisoformat(iso(due))).days
        amounts = per_party.setdefault(party, [ZERO] * 6)
        amounts[bucket(days)] += dec(total) - dec(paid)
        amounts[5] += dec(total) - dec(paid)
    rows = [[name, *amounts] for name, amounts in per_party.items()]
    return sorted(rows, key=lambda r: (-r[-1], r[0]))


@pytest.mark.parametrize(("intent", "kind"), [("ar_aging", "ar"), ("ap_aging", "ap")])
def test_aging_buckets(qs: Session, a: World, intent: str, kind: str) -> None:
    ctx = a.ctx["finance"]
    result = ask(qs, ctx, intent)
    expected = expected_aging(qs, a.id, kind)
    assert result.rows == expected
    assert result.columns[1:] == ["current", "1-30", "31-60", "61-90", "90+", "total"]
    for i, key in enumerate(result.columns[1:], start=1):
        assert result.totals[key] == sum((r[i] for r in expected), ZERO)
    # the data reaches every bucket it was built to reach
    assert result.totals["current"] > 0 and result.totals["90+"] > 0
    assert money_text(ctx, result.totals["total"]) in result.summary
    assert result.provenance.record_count == len(open_documents(qs, a.id, kind))


def test_aging_party_filter_and_foreign_party(qs: Session, a: World, b: World) -> None:
    ctx = a.ctx["finance"]
    dhaka = a.customers[1]
    one = ask(qs, ctx, "ar_aging", customer_id=dhaka.id)
    assert one.rows == [r for r in expected_aging(qs, a.id, "ar") if r[0] == dhaka.name]
    assert one.provenance.filters == {"customer_id": dhaka.id}
    padma = a.suppliers[1]
    assert [r[0] for r in ask(qs, ctx, "ap_aging", supplier_id=padma.id).rows] == [padma.name]

    foreign = ask(qs, ctx, "ar_aging", customer_id=b.customers[1].id)
    missing = ask(qs, ctx, "ar_aging", customer_id=10**6)
    assert foreign.rows == missing.rows == []
    assert foreign.summary == missing.summary == "I couldn't find that customer."
    assert foreign.totals == missing.totals


def test_overdue_invoices(qs: Session, a: World) -> None:
    ctx = a.ctx["finance"]
    result = ask(qs, ctx, "overdue_invoices")
    expected = []
    for party, number, issued, due, total, paid in open_documents(qs, a.id, "ar"):
        days = (TODAY - dt.date.fromisoformat(iso(due))).days
        if days > 0:
            expected.append(
                [number, party, iso(issued), iso(due), days, dec(total), dec(total) - dec(paid)]
            )
    expected.sort(key=lambda r: (-r[4], r[0]))
    assert result.rows == expected
    assert result.totals == {
        "total": sum((r[5] for r in expected), ZERO),
        "open": sum((r[6] for r in expected), ZERO),
    }
    # due today is not overdue
    assert a.invoices["due_today"].number not in [r[0] for r in result.rows]
    assert f"{len(expected)} invoices are overdue as of 15 Jun 2026" in result.summary

    big = ask(qs, ctx, "overdue_invoices", min_amount=Decimal("5000"))
    assert big.rows == [r for r in expected if r[6] >= Decimal("5000")]
    assert 0 < len(big.rows) < len(expected)
    small = ask(qs, ctx, "overdue_invoices", max_amount=Decimal("5000"))
    assert small.rows == [r for r in expected if r[6] <= Decimal("5000")]

    top = ask(qs, ctx, "overdue_invoices", top_n=2)
    assert top.rows == sorted(expected, key=lambda r: (-r[6], r[0]))[:2]
    assert f"Showing 2 of {len(expected)} (largest first)." in top.summary
    assert top.totals == result.totals  # the totals cover every overdue invoice

    dhaka = a.customers[1]
    theirs = ask(qs, ctx, "overdue_invoices", customer_id=dhaka.id)
    assert theirs.rows == [r for r in expected if r[1] == dhaka.name]

    early = ask(qs, ctx, "overdue_invoices", today=dt.date(2026, 3, 1))
    assert early.rows == []
    assert early.summary == "No overdue invoices as of 1 Mar 2026."


def test_invoice_status_of_a_partly_paid_invoice(qs: Session, a: World) -> None:
    ctx = a.ctx["finance"]
    invoice = a.invoices["d1_30"]
    result = ask(qs, ctx, "invoice_status", document_ref=invoice.number.lower())
    ((number, party, issued, due, status, total, paid),) = sql(
        qs,
        """
        SELECT i.number, c.name, i.issue_date, i.due_date, i.status, i.total, i.amount_paid
        FROM invoices i JOIN customers c ON c.id = i.customer_id
        WHERE i.company_id = :c AND i.number = :n
        """,
        c=a.id,
        n=invoice.number,
    )
    assert status == "partially_paid"
    row = [
        number,
        party,
        iso(issued),
        iso(due),
        status,
        dec(total),
        dec(paid),
        dec(total) - dec(paid),
    ]
    assert result.rows == [row]
    assert result.totals == {"total": dec(total), "paid": dec(paid), "open": row[7]}
    allocations = sql(
        qs,
        """
        SELECT p.number, pa.amount FROM payment_allocations pa
        JOIN payments p ON p.id = pa.payment_id
        WHERE pa.company_id = :c AND pa.invoice_id = :i
        """,
        c=a.id,
        i=invoice.id,
    )
    assert [(p["number"], p["amount"]) for p in result.extra["payments"]] == [
        (n, dec(amt)) for n, amt in allocations
    ]
    assert "partially paid" in result.summary and "15 days overdue" in result.summary


@pytest.mark.parametrize(
    ("key", "words"),
    [
        ("draft", "is a draft"),
        ("void", "was voided"),
        ("old_paid", "is fully paid"),
        ("current", "posted and unpaid"),
        ("due_today", "is due today"),
        ("bill_90p", "posted and unpaid"),
    ],
)
def test_invoice_status_words(qs: Session, a: World, key: str, words: str) -> None:
    invoice = a.invoices[key]
    result = ask(qs, a.ctx["finance"], "invoice_status", document_ref=invoice.number)
    assert result.rows[0][0] == invoice.number
    assert result.rows[0][4] == invoice.status
    assert words in result.summary


def test_invoice_status_of_another_company_reads_like_a_missing_one(
    qs: Session, a: World, b: World
) -> None:
    # B gets an invoice whose number A has never issued
    extra = create_invoice(
        qs,
        b.ctx["admin"],
        kind=InvoiceKind.AR,
        party_id=b.customers[0].id,
        issue_date=dt.date(2026, 6, 14),
        lines=[DocLineIn(item_id=b.items[4].id, quantity=Decimal("1"))],
    )
    ctx = a.ctx["finance"]
    foreign = ask(qs, ctx, "invoice_status", document_ref=extra.number)
    assert ask(qs, b.ctx["finance"], "invoice_status", document_ref=extra.number).rows
    missing_ref = extra.number[:-4] + "9999"
    missing = ask(qs, ctx, "invoice_status", document_ref=missing_ref)
    assert foreign.rows == missing.rows == []
    assert foreign.summary == f"I couldn't find invoice {extra.number}."
    assert missing.summary == f"I couldn't find invoice {missing_ref}."
    assert foreign.provenance.record_count == missing.provenance.record_count == 0

    not_an_invoice = ask(qs, ctx, "invoice_status", document_ref="PO-2026-0001")
    assert not_an_invoice.rows == []
    assert "not an invoice or bill number" in not_an_invoice.summary


def expected_balances(session: Session, company_id: int, kind: str) -> list[list[Any]]:
    table, column, payment_kind = SIDES[kind]
    figures: dict[str, list[Any]] = {}
    for party, _, _, due, total, paid in open_documents(session, company_id, kind):
        row = figures.setdefault(party, [party, 0, ZERO, ZERO, ZERO])
        row[1] += 1
        row[2] += dec(total) - dec(paid)
        if dt.date.fromisoformat(iso(due)) < TODAY:
            row[3] += dec(total) - dec(paid)
    received = sql(
        session,
        f"""
        SELECT x.name, SUM(p.amount) FROM payments p JOIN {table} x ON x.id = p.{column}
        WHERE p.company_id = :c AND p.kind = :k AND p.status = 'posted' GROUP BY x.name
        """,
        c=company_id,
        k=payment_kind,
    )
    applied = dict(
        sql(
            session,
            f"""
            SELECT x.name, SUM(pa.amount) FROM payment_allocations pa
            JOIN payments p ON p.id = pa.payment_id
            JOIN {table} x ON x.id = p.{column}
            WHERE p.company_id = :c AND p.kind = :k AND p.status = 'posted' GROUP BY x.name
            """,
            c=company_id,
            k=payment_kind,
        )
    )
    for name, amount in received:
        unapplied = dec(amount) - dec(applied.get(name))
        if unapplied:
            figures.setdefault(name, [name, 0, ZERO, ZERO, ZERO])[4] = unapplied
    rows = [[*r, r[2] - r[4]] for r in figures.values()]
    return sorted(rows, key=lambda r: (-r[5], r[0]))


@pytest.mark.parametrize(
    ("intent", "kind", "party_attr", "with_credit"),
    [
        ("customer_balance", "ar", "customers", 2),  # Chittagong Foods has money on account
        ("supplier_balance", "ap", "suppliers", 1),  # Padma Logistics too
    ],
)
def test_balances(
    qs: Session, a: World, b: World, intent: str, kind: str, party_attr: str, with_credit: int
) -> None:
    ctx = a.ctx["finance"]
    result = ask(qs, ctx, intent)
    expected = expected_balances(qs, a.id, kind)
    assert result.rows == expected
    for i, key in enumerate(result.columns[2:], start=2):
        assert result.totals[key] == sum((r[i] for r in expected), ZERO)
    assert result.totals["unapplied"] > 0  # the voided receipt is not counted, the credit is

    party = getattr(a, party_attr)[with_credit]
    one = ask(qs, ctx, intent, **{f"{kind_party(kind)}_id": party.id})
    (row,) = one.rows
    assert row == next(r for r in expected if r[0] == party.name)
    assert row[4] > 0 and row[5] == row[2] - row[4]
    assert one.summary.startswith(party.name)
    assert money_text(ctx, row[5]) in one.summary

    threshold = expected[0][5]
    top_only = ask(qs, ctx, intent, min_amount=threshold)
    assert top_only.rows == [r for r in expected if r[5] >= threshold]
    low = ask(qs, ctx, intent, max_amount=threshold - 1)
    assert low.rows == [r for r in expected if r[5] <= threshold - 1]
    assert ask(qs, ctx, intent, top_n=1).rows == expected[:1]

    foreign_party = getattr(b, party_attr)[0]
    foreign = ask(qs, ctx, intent, **{f"{kind_party(kind)}_id": foreign_party.id})
    missing = ask(qs, ctx, intent, **{f"{kind_party(kind)}_id": 10**6})
    assert foreign.rows == missing.rows == []
    assert foreign.summary == missing.summary


def kind_party(kind: str) -> str:
    return "customer" if kind == "ar" else "supplier"


def expected_sales_by_customer(
    session: Session, company_id: int, start: dt.date, end: dt.date
) -> list[tuple[str, int, Decimal]]:
    rows = sql(
        session,
        """
        SELECT c.name, COUNT(*), SUM(i.subtotal) FROM invoices i
        JOIN customers c ON c.id = i.customer_id
        WHERE i.company_id = :c AND i.kind = 'ar'
          AND i.status IN ('posted', 'partially_paid', 'paid')
          AND i.issue_date BETWEEN :s AND :e
        GROUP BY c.name
        """,
        c=company_id,
        s=start,
        e=end,
    )
    return sorted(((n, int(k), dec(v)) for n, k, v in rows), key=lambda r: (-r[2], r[0]))


def test_top_customers(qs: Session, a: World) -> None:
    ctx = a.ctx["sales"]
    result = ask(qs, ctx, "top_customers")
    ranked = expected_sales_by_customer(qs, a.id, dt.date(2025, 6, 16), TODAY)
    all_sales = sum((r[2] for r in ranked), ZERO)
    assert [r[1:4] for r in result.rows] == [list(r) for r in ranked[:5]]
    assert [r[0] for r in result.rows] == list(range(1, len(result.rows) + 1))
    assert result.totals == {"sales": sum((r[2] for r in ranked[:5]), ZERO), "all_sales": all_sales}
    assert result.rows[0][4] == (ranked[0][2] * 100 / all_sales).quantize(Decimal("0.1"))
    # the paid invoice of May 2025 is older than twelve months: all-time sales are more
    ever = expected_sales_by_customer(qs, a.id, dt.date(2000, 1, 1), TODAY)
    assert sum((r[2] for r in ever), ZERO) > all_sales
    assert "the last 12 months (16 Jun 2025 – 15 Jun 2026)" in result.summary

    two = ask(qs, ctx, "top_customers", top_n=2)
    assert [r[1] for r in two.rows] == [r[0] for r in ranked[:2]]
    assert two.totals["all_sales"] == all_sales

    june = ask(qs, ctx, "top_customers", period={"start": "2026-06-01", "end": "2026-06-30"})
    in_june = expected_sales_by_customer(qs, a.id, dt.date(2026, 6, 1), dt.date(2026, 6, 30))
    assert [r[1:4] for r in june.rows] == [list(r) for r in in_june[:5]]
    assert june.totals != result.totals


@pytest.mark.parametrize(("status", "flags"), [(None, (1,)), ("inactive", (0,)), ("all", (0, 1))])
def test_customer_list(qs: Session, a: World, status: str | None, flags: tuple[int, ...]) -> None:
    ctx = a.ctx["viewer"]
    result = ask(qs, ctx, "customer_list", status=status)
    rows = sql(
        qs,
        """
        SELECT code, name, email, phone, payment_terms_days, credit_limit, is_active
        FROM customers WHERE company_id = :c ORDER BY name, code
        """,
        c=a.id,
    )
    expected = [
        [code, name, email, phone, terms, dec(limit), "active" if active else "inactive"]
        for code, name, email, phone, terms, limit, active in rows
        if int(active) in flags
    ]
    assert result.rows == expected
    assert len(expected) == {(1,): 3, (0,): 1, (0, 1): 4}[flags]
    assert f"You have {len(expected)} " in result.summary


def test_customer_list_cut_and_bad_status(qs: Session, a: World) -> None:
    ctx = a.ctx["sales"]
    two = ask(qs, ctx, "customer_list", top_n=2)
    assert len(two.rows) == 2 and two.extra == {"matched": 3, "shown": 2}
    assert "Showing 2 of 3 (by name)." in two.summary
    odd = ask(qs, ctx, "customer_list", status="vip")
    assert odd.rows == [] and "active or inactive" in odd.summary


@pytest.mark.parametrize(("intent", "kind"), [("ar_aging", "ar"), ("ap_aging", "ap")])
def test_aging_with_more_parties_than_shown_is_cut_by_the_database(
    qs: Session, a: World, intent: str, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At scale (18,339 customers owing) the database ranks, cuts and totals the parties."""
    from companion.assistant.queries import openitems

    whole = ask(qs, a.ctx["finance"], intent)
    assert len(whole.rows) > 1
    monkeypatch.setattr(openitems, "MAX_ROWS", 1)
    cut = ask(qs, a.ctx["finance"], intent)
    assert cut.rows == whole.rows[:1] == expected_aging(qs, a.id, kind)[:1]
    assert cut.totals == whole.totals
    assert cut.provenance.record_count == whole.provenance.record_count
    assert cut.summary.startswith(whole.summary)
    assert cut.summary.endswith(f" Showing 1 of {len(whole.rows)} (largest balances first).")


def test_overdue_invoices_by_how_many_days(qs: Session, a: World) -> None:
    """'Overdue by more than N days' lists those invoices only, and says so."""
    ctx = a.ctx["finance"]
    every = ask(qs, ctx, "overdue_invoices").rows
    days = sorted({r[4] for r in every})
    assert len(days) > 2  # the world has invoices overdue by different numbers of days
    cut_at = days[len(days) // 2]
    older = ask(qs, ctx, "overdue_invoices", min_days=cut_at + 1)
    assert older.rows == [r for r in every if r[4] > cut_at]
    assert 0 < len(older.rows) < len(every)
    assert f"overdue by more than {cut_at} days as of 15 Jun 2026" in older.summary
    assert older.totals["open"] == sum((r[6] for r in older.rows), ZERO)
    younger = ask(qs, ctx, "overdue_invoices", max_days=cut_at - 1)
    assert younger.rows == [r for r in every if r[4] < cut_at]
    assert f"overdue by less than {cut_at} days" in younger.summary
    # the amount path (sorted in Python) applies the bound too
    both = ask(qs, ctx, "overdue_invoices", min_days=cut_at + 1, min_amount=Decimal("0.01"))
    assert both.rows == older.rows
    none = ask(qs, ctx, "overdue_invoices", min_days=days[-1] + 1)
    assert none.rows == []
    assert none.summary == f"No invoice is overdue by more than {days[-1]} days as of 15 Jun 2026."
