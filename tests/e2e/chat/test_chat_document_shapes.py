"""Document lists, members with no activity, counts of parties and shares (issue 13), on the
demo of each backend, checked against hand-written SQL (``sqlalchemy.text``, not the layer).

The layer is called directly (``analytics.documents`` / ``analytics.members`` / the distinct
count measures) and through the chat API with the questions users asked; both must give the
figures the SQL gives, and bad input must be refused in words, not a 500.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from e2e_support import member
from sqlalchemy import text
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from companion.analytics import AnalyticsQuery, Unanswerable, run
from companion.analytics.documents import DocumentQuery, list_documents
from companion.analytics.members import InactiveQuery, inactive, share

TODAY = dt.date(2026, 3, 15)
FEB = (dt.date(2026, 2, 1), dt.date(2026, 2, 28))
_ISSUED = "('posted', 'partially_paid', 'paid')"


def _cid(session: Session, slug: str = "acme") -> int:
    return int(
        session.execute(text("SELECT id FROM companies WHERE slug = :s"), {"s": slug}).scalar_one()
    )


def _invoices(session: Session, where: str = "", **params: Any) -> list[dict[str, Any]]:
    sql = f"""
        SELECT i.number, c.name AS customer, i.issue_date, i.subtotal, i.total, i.amount_paid,
               i.customer_id
        FROM invoices i LEFT JOIN customers c ON c.id = i.customer_id
        WHERE i.company_id = :cid AND i.kind = 'ar' AND i.status IN {_ISSUED} {where}"""
    rows = session.execute(text(sql), {"cid": _cid(session), **params})
    out = [dict(r._mapping) for r in rows]
    for r in out:  # in Python: SQLite subtracts REAL columns in floating point
        r["subtotal"] = Decimal(str(r["subtotal"])).quantize(Decimal("0.01"))
        r["open_amount"] = Decimal(str(r.pop("total"))) - Decimal(str(r.pop("amount_paid")))
    return out


def _busiest_customer(session: Session) -> tuple[int, str]:
    row = session.execute(
        text(
            f"""SELECT c.id, c.name FROM invoices i JOIN customers c ON c.id = i.customer_id
            WHERE i.company_id = :cid AND i.kind = 'ar' AND i.status IN {_ISSUED}
            GROUP BY c.id, c.name ORDER BY COUNT(*) DESC, c.name LIMIT 1"""
        ),
        {"cid": _cid(session)},
    ).one()
    return int(row[0]), str(row[1])


def test_the_largest_and_smallest_invoices_of_a_month_are_ranked_by_net_amount(
    demo_session: Session,
) -> None:
    ctx = member(demo_session, "finance")
    feb = _invoices(demo_session, "AND i.issue_date BETWEEN :a AND :b", a=FEB[0], b=FEB[1])
    assert len(feb) > 3
    for order, reverse in (("largest", True), ("smallest", False)):
        query = DocumentQuery(kind="invoice", start=FEB[0], end=FEB[1], order=order, top=3)
        result = list_documents(demo_session, ctx, query, TODAY)
        want = sorted(feb, key=lambda r: Decimal(r["subtotal"]), reverse=reverse)[:3]
        assert [Decimal(r[4]) for r in result.rows] == [Decimal(r["subtotal"]) for r in want]
        assert result.matched == len(feb)
        assert result.total == sum((Decimal(r["subtotal"]) for r in feb), Decimal(0))


def test_a_customers_invoices_over_a_threshold_are_the_ones_the_sql_finds(
    demo_session: Session,
) -> None:
    ctx = member(demo_session, "finance")
    customer_id, _ = _busiest_customer(demo_session)
    mine = _invoices(demo_session, "AND i.customer_id = :p", p=customer_id)
    amounts = sorted(Decimal(r["subtotal"]) for r in mine)
    threshold = amounts[len(amounts) // 2]  # about half of them
    query = DocumentQuery(kind="invoice", party=customer_id, min_amount=threshold)
    result = list_documents(demo_session, ctx, query, TODAY)
    want = {r["number"] for r in mine if Decimal(r["subtotal"]) >= threshold}
    assert {r[0] for r in result.rows} == want
    assert result.matched == len(want)
    assert result.open_total == sum(
        (Decimal(r["open_amount"]) for r in mine if Decimal(r["subtotal"]) >= threshold),
        Decimal(0),
    )
    # Newest first.
    dates = [r[2] for r in result.rows]
    assert dates == sorted(dates, reverse=True)
    under = list_documents(
        demo_session,
        ctx,
        query.model_copy(update={"min_amount": None, "max_amount": threshold}),
        TODAY,
    )
    assert {r[0] for r in under.rows} == {
        r["number"] for r in mine if Decimal(r["subtotal"]) <= threshold
    }


def test_purchase_orders_from_a_supplier_over_an_amount(demo_session: Session) -> None:
    ctx_buyer = member(demo_session, "buyer")
    cid = _cid(demo_session)
    rows = demo_session.execute(
        text(
            """SELECT po.number, po.total, po.supplier_id FROM purchase_orders po
            WHERE po.company_id = :cid AND po.status NOT IN ('draft', 'rejected', 'cancelled')"""
        ),
        {"cid": cid},
    ).all()
    supplier = max({r[2] for r in rows}, key=lambda s: sum(1 for r in rows if r[2] == s))
    totals = sorted(Decimal(r[1]) for r in rows if r[2] == supplier)
    threshold = totals[len(totals) // 2]
    query = DocumentQuery(kind="purchase_order", party=supplier, min_amount=threshold)
    result = list_documents(demo_session, ctx_buyer, query, TODAY)
    want = {r[0] for r in rows if r[2] == supplier and Decimal(r[1]) >= threshold}
    assert want and {r[0] for r in result.rows} == want
    assert result.open_total is None and "open_amount" not in result.columns


def test_open_supplier_bills_are_the_unpaid_ones(demo_session: Session) -> None:
    ctx = member(demo_session, "finance")
    want = demo_session.execute(
        text(
            """SELECT number, total, amount_paid FROM invoices WHERE company_id = :cid
            AND kind = 'ap' AND status IN ('posted', 'partially_paid') AND total > amount_paid"""
        ),
        {"cid": _cid(demo_session)},
    ).all()
    result = list_documents(
        demo_session, ctx, DocumentQuery(kind="bill", open_only=True, top=100), TODAY
    )
    assert result.matched == len(want)
    owed = sum((Decimal(str(r[1])) - Decimal(str(r[2])) for r in want), Decimal(0))
    assert result.open_total == owed.quantize(Decimal("0.01"))


@pytest.mark.parametrize(
    "change",
    [
        {"top": 0},
        {"top": 10_000},
        {"min_amount": Decimal("-5")},
        {"min_amount": Decimal("10"), "max_amount": Decimal("5")},
        {"status": "lost"},
    ],
)
def test_bad_document_questions_are_refused_in_words(demo_session: Session, change) -> None:
    ctx = member(demo_session, "finance")
    query = DocumentQuery(kind="invoice", **change)
    with pytest.raises(Unanswerable) as caught:
        list_documents(demo_session, ctx, query, TODAY)
    assert caught.value.message


def test_another_companys_customer_lists_like_a_missing_one(demo_session: Session) -> None:
    ctx = member(demo_session, "finance")
    other = demo_session.execute(
        text(
            """SELECT i.customer_id FROM invoices i JOIN companies co ON co.id = i.company_id
            WHERE co.slug = 'globex' AND i.kind = 'ar' LIMIT 1"""
        )
    ).scalar_one()
    theirs = list_documents(demo_session, ctx, DocumentQuery(kind="invoice", party=other), TODAY)
    missing = list_documents(
        demo_session, ctx, DocumentQuery(kind="invoice", party=987_654_321), TODAY
    )
    assert theirs.rows == missing.rows == [] and theirs.matched == missing.matched == 0
    assert theirs.total == missing.total == Decimal(0)


def test_items_not_sold_in_90_days_are_the_active_items_without_a_sales_line(
    demo_session: Session,
) -> None:
    ctx = member(demo_session, "finance")
    start = TODAY - dt.timedelta(days=89)
    want = demo_session.execute(
        text(
            f"""SELECT it.name, COALESCE((SELECT SUM(sl.quantity) FROM stock_levels sl
                   WHERE sl.item_id = it.id), 0)
            FROM items it WHERE it.company_id = :cid AND it.is_active = :yes
            AND it.id NOT IN (
                SELECT l.item_id FROM invoice_lines l JOIN invoices i ON i.id = l.invoice_id
                WHERE i.company_id = :cid AND i.kind = 'ar' AND i.status IN {_ISSUED}
                AND l.item_id IS NOT NULL AND i.issue_date BETWEEN :a AND :b)"""
        ),
        {"cid": _cid(demo_session), "a": start, "b": TODAY, "yes": True},
    ).all()
    query = InactiveQuery(member="item", measure="sales", start=start, end=TODAY)
    result = inactive(demo_session, ctx, query, TODAY)
    assert result.matched == len(want)
    assert {(r[0], Decimal(r[1])) for r in result.rows} == {
        (str(r[0]), Decimal(r[1])) for r in want
    }


def test_customers_who_bought_nothing_and_the_count_of_those_who_did(
    demo_session: Session,
) -> None:
    ctx = member(demo_session, "finance")
    cid = _cid(demo_session)
    params = {"cid": cid, "a": FEB[0], "b": FEB[1], "yes": True}
    bought = demo_session.execute(
        text(
            f"""SELECT COUNT(DISTINCT customer_id) FROM invoices WHERE company_id = :cid
            AND kind = 'ar' AND status IN {_ISSUED} AND issue_date BETWEEN :a AND :b"""
        ),
        params,
    ).scalar_one()
    quiet = demo_session.execute(
        text(
            f"""SELECT COUNT(*) FROM customers c WHERE c.company_id = :cid AND c.is_active = :yes
            AND NOT EXISTS (SELECT 1 FROM invoices i WHERE i.customer_id = c.id
                AND i.kind = 'ar' AND i.status IN {_ISSUED} AND i.issue_date BETWEEN :a AND :b)"""
        ),
        params,
    ).scalar_one()
    counted = run(
        demo_session,
        ctx,
        AnalyticsQuery(measure="customers_buying", start=FEB[0], end=FEB[1]),
        TODAY,
    )
    assert counted.total == Decimal(bought) and bought > 0
    none = inactive(
        demo_session,
        ctx,
        InactiveQuery(member="customer", measure="sales", start=FEB[0], end=FEB[1]),
        TODAY,
    )
    assert none.matched == quiet


def test_a_customers_share_of_sales(demo_session: Session) -> None:
    ctx = member(demo_session, "finance")
    customer_id, _ = _busiest_customer(demo_session)
    feb = _invoices(demo_session, "AND i.issue_date BETWEEN :a AND :b", a=FEB[0], b=FEB[1])
    whole = sum((Decimal(r["subtotal"]) for r in feb), Decimal(0))
    part = sum((Decimal(r["subtotal"]) for r in feb if r["customer_id"] == customer_id), Decimal(0))
    query = AnalyticsQuery(
        measure="sales", filters={"customer": customer_id}, start=FEB[0], end=FEB[1]
    )
    found = share(demo_session, ctx, query, TODAY)
    assert found.part.total == part and found.whole.total == whole
    assert found.pct == (part * 100 / whole).quantize(Decimal("0.1"))


def _ask(client: TestClient, headers: dict[str, str], message: str) -> Any:
    response = client.post("/api/v1/ai/chat", json={"message": message}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()
