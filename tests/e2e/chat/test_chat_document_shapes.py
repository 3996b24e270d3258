"""Document lists, members with no activity, counts of parties and shares (issue 13), on the
demo of each backend, checked against hand-written SQL (``sqlalchemy.text``, not the layer).

The layer is called directly (``analytics.documents`` / ``analytics.members`` / the distinct
count measures) and through the chat API with the questions users asked; both must give the
figures the SQL gives, and bad input must be refused in words, not a 500.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
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


def test_a_breakdown_counts_its_total_once_not_per_group(demo_session: Session) -> None:
    """Customers who bought by month, invoices by item, the average invoice by item: a row
    falls in several groups, so the total is counted over the period, not the groups summed
    (and so is the compared period's)."""
    ctx = member(demo_session, "finance")
    year = (dt.date(2025, 11, 1), TODAY)
    params = {"cid": _cid(demo_session), "a": year[0], "b": year[1]}
    lines = f"""FROM invoice_lines l JOIN invoices i ON i.id = l.invoice_id
        WHERE i.company_id = :cid AND i.kind = 'ar' AND i.status IN {_ISSUED}
        AND i.issue_date BETWEEN :a AND :b"""
    customers, invoices, amount = demo_session.execute(
        text(
            "SELECT COUNT(DISTINCT i.customer_id), COUNT(DISTINCT i.id), SUM(l.net_amount) " + lines
        ),
        params,
    ).one()
    summed_months = demo_session.execute(
        text(
            f"""SELECT COALESCE(SUM(n), 0) FROM (SELECT COUNT(DISTINCT customer_id) AS n
            FROM invoices WHERE company_id = :cid AND kind = 'ar' AND status IN {_ISSUED}
            AND issue_date BETWEEN :a AND :b
            GROUP BY strftime('%Y-%m', issue_date)) m"""
            if demo_session.get_bind().dialect.name == "sqlite"
            else f"""SELECT COALESCE(SUM(n), 0) FROM (SELECT COUNT(DISTINCT customer_id) AS n
            FROM invoices WHERE company_id = :cid AND kind = 'ar' AND status IN {_ISSUED}
            AND issue_date BETWEEN :a AND :b
            GROUP BY date_trunc('month', issue_date)) m"""
        ),
        params,
    ).scalar_one()
    assert summed_months > customers > 0  # the months' sum would be the wrong answer

    def total(measure: str, by: tuple[str, ...], **more: Any) -> Any:
        query = AnalyticsQuery(measure=measure, by=by, start=year[0], end=year[1], **more)
        return run(demo_session, ctx, query, TODAY)

    assert total("customers_buying", ("month",)).total == customers
    assert total("invoice_count", ("item",)).total == invoices
    assert total("invoice_count", ("item",), top=3).total == invoices  # ranked in SQL
    average = (Decimal(str(amount)) / invoices).quantize(Decimal("0.01"))
    assert total("average_invoice", ("item",)).total == average
    compared = total(
        "customers_buying",
        ("item",),
        compare="period",
        compare_start=dt.date(2025, 4, 1),
        compare_end=dt.date(2025, 10, 31),
    )
    params_before = {**params, "a": dt.date(2025, 4, 1), "b": dt.date(2025, 10, 31)}
    before = demo_session.execute(
        text(
            f"""SELECT COUNT(DISTINCT customer_id) FROM invoices WHERE company_id = :cid
            AND kind = 'ar' AND status IN {_ISSUED} AND issue_date BETWEEN :a AND :b"""
        ),
        params_before,
    ).scalar_one()
    assert (compared.total, compared.previous_total) == (customers, before)


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


SHAPES = yaml.safe_load((Path(__file__).parent / "analytics_questions.yml").read_text())["shapes"]
_DOC_SQL = {
    "invoice": """SELECT i.number, i.subtotal AS amount FROM invoices i
        LEFT JOIN customers p ON p.id = i.customer_id
        WHERE i.company_id = :cid AND i.kind = 'ar' AND i.status IN {issued}
        AND i.issue_date BETWEEN :a AND :b""",
    "purchase_order": """SELECT po.number, po.total AS amount FROM purchase_orders po
        JOIN suppliers p ON p.id = po.supplier_id
        WHERE po.company_id = :cid AND po.status NOT IN ('draft', 'rejected', 'cancelled')
        AND po.order_date BETWEEN :a AND :b""",
}


def _money(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


def _expected_documents(
    session: Session, case: dict[str, Any], a: str, b: str, every_status: bool = False
) -> list[Any]:
    sql = _DOC_SQL[case["kind"]].format(issued=_ISSUED)
    if every_status:  # the fixed purchase-order list's definition: any status
        sql = sql.replace("AND po.status NOT IN ('draft', 'rejected', 'cancelled')", "")
    params: dict[str, Any] = {"cid": _cid(session), "a": a, "b": b}
    if case.get("party"):
        sql += " AND p.name = :party"
        params["party"] = case["party"]
    rows = [(str(r[0]), _money(r[1])) for r in session.execute(text(sql), params)]
    low, high = case.get("min"), case.get("max")
    return [
        r
        for r in rows
        if (low is None or r[1] >= Decimal(str(low)))
        and (high is None or r[1] <= Decimal(str(high)))
    ]


def _expected_inactive(session: Session, case: dict[str, Any], a: str, b: str) -> int:
    if case["member"] == "item":
        sql = f"""SELECT COUNT(*) FROM items m WHERE m.company_id = :cid AND m.is_active = :yes
            AND NOT EXISTS (SELECT 1 FROM invoice_lines l JOIN invoices i ON i.id = l.invoice_id
              WHERE l.item_id = m.id AND i.kind = 'ar' AND i.status IN {_ISSUED}
              AND i.issue_date BETWEEN :a AND :b)"""
    else:
        sql = f"""SELECT COUNT(*) FROM customers m WHERE m.company_id = :cid AND m.is_active = :yes
            AND NOT EXISTS (SELECT 1 FROM invoices i WHERE i.customer_id = m.id
              AND i.kind = 'ar' AND i.status IN {_ISSUED} AND i.issue_date BETWEEN :a AND :b)"""
    params = {"cid": _cid(session), "a": a, "b": b, "yes": True}
    return int(session.execute(text(sql), params).scalar_one())


def _expected_count(session: Session, case: dict[str, Any], a: str, b: str) -> int:
    sql = {
        "customers_buying": f"""SELECT COUNT(DISTINCT customer_id) FROM invoices
            WHERE company_id = :cid AND kind = 'ar' AND status IN {_ISSUED}
            AND issue_date BETWEEN :a AND :b""",
        "items_sold": f"""SELECT COUNT(DISTINCT l.item_id) FROM invoice_lines l
            JOIN invoices i ON i.id = l.invoice_id WHERE i.company_id = :cid AND i.kind = 'ar'
            AND i.status IN {_ISSUED} AND i.issue_date BETWEEN :a AND :b""",
        "suppliers_paid": """SELECT COUNT(DISTINCT supplier_id) FROM payments
            WHERE company_id = :cid AND kind = 'payment' AND status = 'posted'
            AND payment_date BETWEEN :a AND :b""",
        "customers_paying": """SELECT COUNT(DISTINCT customer_id) FROM payments
            WHERE company_id = :cid AND kind = 'receipt' AND status = 'posted'
            AND payment_date BETWEEN :a AND :b""",
    }[case["measure"]]
    return int(session.execute(text(sql), {"cid": _cid(session), "a": a, "b": b}).scalar_one())


def _expected_share(session: Session, case: dict[str, Any], a: str, b: str) -> Decimal:
    rows = _invoices(session, "AND i.issue_date BETWEEN :a AND :b", a=a, b=b)
    whole = sum((r["subtotal"] for r in rows), Decimal(0))
    part = sum((r["subtotal"] for r in rows if r["customer"] == case["party"]), Decimal(0))
    return (part * 100 / whole).quantize(Decimal("0.1"))


def _shape_problem(session: Session, case: dict[str, Any], body: dict[str, Any]) -> str | None:
    """None when the answer is the shape asked with the SQL's figures, else what differs."""
    data = body.get("data") or {}
    cols = data.get("columns") or []
    if body["skill"] == "data_query" and case["shape"] == "documents" and "number" in cols:
        # The fixed purchase-order list answers a PO list exactly (supplier, status, amount),
        # counting orders in every status.
        want = _expected_documents(session, case, *case["period"], every_status=True)
        at, amount = cols.index("number"), cols.index("total")
        got = {(str(r[at]), _money(r[amount])) for r in data["rows"]}
        return None if got == set(want) else f"fixed list {sorted(got)} != {sorted(want)}"
    if body["skill"] != "analytics" or body.get("pending_confirmation"):
        return f"answered by {body['skill']}: {body['message']}"
    query = data.get("query") or {}
    a, b = case["period"]
    if (query.get("start"), query.get("end")) != (a, b):
        return f"period {query.get('start')}..{query.get('end')} != {a}..{b}"
    shape = case["shape"]
    if shape == "documents":
        if data.get("documents") != case["kind"]:
            return f"documents {data.get('documents')}: {body['message']}"
        want = _expected_documents(session, case, a, b)
        got = [(str(r[0]), _money(r[4])) for r in data["rows"]]
        if case.get("top"):
            ranked = sorted(want, key=lambda r: r[1], reverse=case["order"] == "largest")
            cut = [r[1] for r in ranked[: case["top"]]]
            if [g[1] for g in got] != cut or not set(got) <= set(want):
                return f"ranked {got} != {ranked[: case['top']]}"
        elif set(got) != set(want) or data["matched"] != len(want):
            return f"listed {sorted(got)} != {sorted(want)}"
        if not want and "no " not in body["message"].lower():
            return f"an empty list not said: {body['message']}"
        return None
    if shape == "inactive":
        want_n = _expected_inactive(session, case, a, b)
        return None if data["matched"] == want_n else f"{data['matched']} inactive != {want_n}"
    if shape == "count":
        want_n = _expected_count(session, case, a, b)
        got_n = data["totals"].get(case["measure"])
        return None if got_n == want_n else f"count {got_n} != {want_n}: {body['message']}"
    pct = _expected_share(session, case, a, b)
    got_pct = data["rows"][0][3]
    ok = got_pct is not None and Decimal(str(got_pct)) == pct and f"{pct}%" in body["message"]
    return None if ok else f"share {got_pct} != {pct}: {body['message']}"


def test_the_labelled_shape_questions(chat_client, login, demo_session, capsys) -> None:
    wrong = []
    for case in SHAPES:
        body = _ask(chat_client, login(case.get("user", "finance")), case["q"])
        problem = _shape_problem(demo_session, case, body)
        if problem is not None:
            wrong.append(f"{case['q']}: {problem}")
    with capsys.disabled():
        print(f"\nshape questions: {len(SHAPES) - len(wrong)}/{len(SHAPES)} exact")
        for line in wrong:
            print("  MISS", line)
    assert not wrong, wrong


@pytest.mark.parametrize(
    "message",
    [
        "show me the invoices for Gazipur & Sons",
        "list invoices over 5 lakh",
        "list the POs over 2 lakh",
        "what was the largest invoice last month?",
    ],
)
def test_questions_about_documents_never_propose_an_action(chat_client, login, message) -> None:
    body = _ask(chat_client, login("finance"), message)
    # The ad-hoc answer, or the fixed purchase-order list (or its refusal for the role).
    assert body["skill"] in ("analytics", "data_query", "denied"), body["message"]
    assert body["intent"] not in ("post_ar_invoice", "create_purchase_order"), body["intent"]
    assert not body.get("pending_confirmation"), body["message"]
    assert "did you mean" not in body["message"].lower(), body["message"]


def test_an_empty_list_says_no_invoices(chat_client, login) -> None:
    body = _ask(chat_client, login("finance"), "list invoices over 5 crore")
    assert body["skill"] == "analytics", body["message"]
    assert body["message"].startswith("There are no invoices"), body["message"]
    assert body["data"]["rows"] == [] and body["data"]["matched"] == 0


def test_bad_numbers_in_a_document_question_get_words_not_a_500(chat_client, login) -> None:
    headers = login("finance")
    top = _ask(chat_client, headers, "show me the 10000 largest invoices last month")
    assert top["data"] is None and "100" in top["message"], top["message"]
    unknown = _ask(chat_client, headers, "show me the invoices for Zzyzx Holdings")
    assert unknown["skill"] in ("clarify", "analytics"), unknown["message"]
    assert "Zzyzx" in unknown["message"] or unknown["data"]["matched"] == 0, unknown["message"]


def test_when_a_customer_last_bought_is_the_date_of_its_newest_invoice(
    chat_client, login, demo_session: Session
) -> None:
    # Was read as the purchase-order query: "I don't know a supplier called ...".
    customer_id, name = _busiest_customer(demo_session)
    mine = _invoices(demo_session, "AND i.customer_id = :p", p=customer_id)
    newest = max(mine, key=lambda r: (r["issue_date"], r["number"]))
    day = dt.date.fromisoformat(str(newest["issue_date"])[:10])
    body = _ask(chat_client, login("finance"), f"When did {name} last buy from us?")
    assert body["skill"] == "analytics", body["message"]
    assert body["message"].startswith(f"{name} last bought on {day:%d %b %Y}: "), body["message"]
    assert body["data"]["rows"][0][0] == newest["number"]
    assert body["data"]["matched"] == len(mine)
