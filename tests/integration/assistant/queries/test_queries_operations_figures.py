"""Purchase orders, approvals, order status, stock, valuation, sales and the dashboard:
every figure equals hand-written SQL."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from query_sql import TODAY, ask, dec, iso, money_text, qty, sql
from query_world import World
from sqlalchemy.orm import Session

from companion.assistant.queries.sales import DASHBOARD_LABELS
from companion.erp.documents import DocLineIn
from companion.erp.purchasing.service import create_purchase_order, pending_approvals_for
from companion.erp.sales.service import create_sales_order
from companion.errors import PermissionDenied

ZERO = Decimal("0.00")


def all_pos(session: Session, company_id: int) -> list[list[Any]]:
    rows = sql(
        session,
        """
        SELECT po.number, s.name, po.order_date, po.status, po.total, po.id
        FROM purchase_orders po JOIN suppliers s ON s.id = po.supplier_id
        WHERE po.company_id = :c
        """,
        c=company_id,
    )
    out = [[n, s, iso(d), st, dec(t), i] for n, s, d, st, t, i in rows]
    return sorted(out, key=lambda r: (r[2], r[0]), reverse=True)


def test_purchase_orders_and_their_filters(qs: Session, a: World) -> None:
    ctx = a.ctx["procurement"]
    every = all_pos(qs, a.id)
    result = ask(qs, ctx, "purchase_orders")
    assert result.rows == [r[:5] for r in every]
    assert result.totals == {"total": sum((r[4] for r in every), ZERO)}
    assert len({r[3] for r in every}) == 7  # every status but "received" is in the data

    pending = ask(qs, ctx, "purchase_orders", status="pending")
    assert pending.rows == [r[:5] for r in every if r[3] == "pending_approval"]
    assert len(pending.rows) == 3
    assert pending.summary.startswith("3 pending purchase orders worth ")
    opened = ask(qs, ctx, "purchase_orders", status="open")
    assert {r[3] for r in opened.rows} == {"approved", "partially_received"}

    supplier = a.suppliers[0]
    theirs = ask(qs, ctx, "purchase_orders", supplier_id=supplier.id)
    assert theirs.rows == [r[:5] for r in every if r[1] == supplier.name]

    may = ask(qs, ctx, "purchase_orders", period={"start": "2026-05-01", "end": "2026-05-31"})
    assert may.rows == [r[:5] for r in every if r[2].startswith("2026-05")]

    jute = a.items[0]
    with_jute = {
        n
        for (n,) in sql(
            qs,
            """
            SELECT DISTINCT po.number FROM purchase_orders po
            JOIN purchase_order_lines l ON l.order_id = po.id
            WHERE po.company_id = :c AND l.item_id = :i
            """,
            c=a.id,
            i=jute.id,
        )
    }
    by_item = ask(qs, ctx, "purchase_orders", item_id=jute.id)
    assert {r[0] for r in by_item.rows} == with_jute and with_jute

    port = a.warehouses[1]
    at_port = ask(qs, ctx, "purchase_orders", warehouse_id=port.id)
    assert {r[0] for r in at_port.rows} == {
        a.orders["pending_l1"].number,
        a.orders["partial"].number,
    }

    floor = Decimal("5000")
    big = ask(qs, ctx, "purchase_orders", min_amount=floor)
    assert big.rows == [r[:5] for r in every if r[4] >= floor]
    small = ask(qs, ctx, "purchase_orders", max_amount=floor)
    assert small.rows == [r[:5] for r in every if r[4] <= floor]
    assert big.rows and small.rows

    top = ask(qs, ctx, "purchase_orders", top_n=2)
    assert top.rows == [r[:5] for r in sorted(every, key=lambda r: (-r[4], r[0]))[:2]]

    odd = ask(qs, ctx, "purchase_orders", status="shipped")
    assert odd.rows == [] and "pending approval" in odd.summary


def expected_pending(session: Session, world: World, role: str) -> list[list[Any]]:
    ctx = world.ctx[role]
    if "procurement.approve" not in ctx.permissions:
        return []
    rows = sql(
        session,
        """
        SELECT po.number, s.name, po.order_date, po.total, t.level, t.assigned_role,
               t.assigned_user_id, t.order_id
        FROM approval_tasks t
        JOIN purchase_orders po ON po.id = t.order_id
        JOIN suppliers s ON s.id = po.supplier_id
        WHERE t.company_id = :c AND t.status = 'pending'
        """,
        c=world.id,
    )
    approved_by_me = {
        order_id
        for (order_id,) in sql(
            session,
            """
            SELECT order_id FROM approval_tasks
            WHERE company_id = :c AND status = 'approved' AND decided_by_id = :u
            """,
            c=world.id,
            u=ctx.user_id,
        )
    }
    out = []
    for number, supplier, on, total, level, assigned_role, user_id, order_id in rows:
        mine = user_id == ctx.user_id if user_id is not None else assigned_role in ctx.roles
        if mine and order_id not in approved_by_me:
            out.append([number, supplier, iso(on), dec(total), level, assigned_role])
    return sorted(out, key=lambda r: (-r[3], r[0]))


@pytest.mark.parametrize(
    ("role", "expected_keys"),
    [
        ("procurement", {"pending_l1"}),
        ("executive", {"pending_l2"}),  # level 3 is assigned to the board member by name
        ("board", {"pending_l2", "pending_l3"}),
        ("finance", set()),  # may approve, but no level is assigned to finance
        ("inventory", set()),
    ],
)
def test_pending_approvals_are_the_callers_own(
    qs: Session, a: World, role: str, expected_keys: set[str]
) -> None:
    ctx = a.ctx[role]
    result = ask(qs, ctx, "pending_approvals")
    assert result.rows == expected_pending(qs, a, role)
    assert {r[0] for r in result.rows} == {a.orders[k].number for k in expected_keys}
    # the same answer as the approval workflow itself gives
    assert {t.order.number for t in pending_approvals_for(qs, ctx)} == {r[0] for r in result.rows}
    assert result.totals == {"total": sum((r[3] for r in result.rows), ZERO)}
    if not expected_keys:
        assert "waiting for you" in result.summary or "No purchase orders" in result.summary


def test_pending_approvals_filters(qs: Session, a: World) -> None:
    board = a.ctx["board"]
    both = ask(qs, board, "pending_approvals")
    assert len(both.rows) == 2
    cheaper = ask(qs, board, "pending_approvals", max_amount=both.rows[0][3] - 1)
    assert cheaper.rows == both.rows[1:]
    dearer = ask(qs, board, "pending_approvals", min_amount=both.rows[0][3])
    assert dearer.rows == both.rows[:1]
    supplier = next(s for s in a.suppliers if s.name == both.rows[1][1])
    assert ask(qs, board, "pending_approvals", supplier_id=supplier.id).rows == [both.rows[1]]
    assert ask(qs, board, "pending_approvals", top_n=1).rows == both.rows[:1]


@pytest.mark.parametrize(
    ("key", "words"),
    [
        ("draft", "is a draft"),
        ("pending_l1", "waiting for approval at level 1 (procurement)"),
        ("pending_l3", "waiting for approval at level 3 (executive)"),
        ("approved", "is approved and not yet received"),
        ("rejected", "was rejected"),
        ("partial", "partially received (15 of 40 units)"),
        ("closed", "received and billed"),
        ("cancelled", "was cancelled: Duplicate"),
    ],
)
def test_order_status_of_purchase_orders(qs: Session, a: World, key: str, words: str) -> None:
    order = a.orders[key]
    result = ask(qs, a.ctx["procurement"], "order_status", document_ref=order.number.lower())
    expected = next(r for r in all_pos(qs, a.id) if r[0] == order.number)
    assert result.rows == [expected[:5]]
    assert result.totals == {"total": expected[4]}
    assert words in result.summary
    assert money_text(a.ctx["procurement"], expected[4]) in result.summary


def test_order_status_of_sales_orders_needs_sales_read(qs: Session, a: World) -> None:
    so = a.sales_orders["invoiced"]
    ((number, customer, on, status, total),) = sql(
        qs,
        """
        SELECT so.number, c.name, so.order_date, so.status, so.total FROM sales_orders so
        JOIN customers c ON c.id = so.customer_id WHERE so.company_id = :c AND so.id = :i
        """,
        c=a.id,
        i=so.id,
    )
    result = ask(qs, a.ctx["viewer"], "order_status", document_ref=number)
    assert result.rows == [[number, customer, iso(on), status, dec(total)]]
    assert "delivered and invoiced" in result.summary
    cancelled = ask(
        qs, a.ctx["sales"], "order_status", document_ref=a.sales_orders["cancelled"].number
    )
    assert "was cancelled: Customer changed their mind" in cancelled.summary
    with pytest.raises(PermissionDenied):
        ask(qs, a.ctx["procurement"], "order_status", document_ref=number)
    with pytest.raises(PermissionDenied):
        ask(qs, a.ctx["sales"], "order_status", document_ref=a.orders["draft"].number)


def test_order_status_of_another_company_reads_like_a_missing_one(
    qs: Session, a: World, b: World
) -> None:
    admin = b.ctx["admin"]
    po = create_purchase_order(
        qs,
        admin,
        supplier_id=b.suppliers[0].id,
        order_date=dt.date(2026, 6, 14),
        warehouse_id=b.warehouses[0].id,
        lines=[DocLineIn(item_id=b.items[3].id, quantity=Decimal("1"))],
    )
    so = create_sales_order(
        qs,
        admin,
        customer_id=b.customers[0].id,
        order_date=dt.date(2026, 6, 14),
        warehouse_id=b.warehouses[0].id,
        lines=[DocLineIn(item_id=b.items[3].id, quantity=Decimal("1"))],
    )
    ctx = a.ctx["admin"]
    for ref, word in ((po.number, "purchase order"), (so.number, "sales order")):
        foreign = ask(qs, ctx, "order_status", document_ref=ref)
        missing_ref = ref[:-4] + "9999"
        missing = ask(qs, ctx, "order_status", document_ref=missing_ref)
        assert foreign.rows == missing.rows == []
        assert foreign.summary == f"I couldn't find {word} {ref}."
        assert missing.summary == f"I couldn't find {word} {missing_ref}."
        assert ask(qs, b.ctx["admin"], "order_status", document_ref=ref).rows


def levels(session: Session, company_id: int) -> list[list[Any]]:
    rows = sql(
        session,
        """
        SELECT i.sku, i.name, w.name, sl.quantity, i.uom, i.reorder_level,
               i.id, w.id, i.unit_cost, i.is_active, i.is_tracked, i.reorder_qty
        FROM stock_levels sl JOIN items i ON i.id = sl.item_id
        JOIN warehouses w ON w.id = sl.warehouse_id
        WHERE sl.company_id = :c
        """,
        c=company_id,
    )
    return [
        [sku, name, wh, qty(q), uom, qty(lvl), iid, wid, dec(cost), act, trk, qty(rq)]
        for sku, name, wh, q, uom, lvl, iid, wid, cost, act, trk, rq in rows
    ]


def test_stock_levels(qs: Session, a: World) -> None:
    ctx = a.ctx["inventory"]
    every = sorted(levels(qs, a.id), key=lambda r: (r[1], r[0], r[2]))
    result = ask(qs, ctx, "stock_levels")
    assert result.rows == [r[:6] for r in every]
    assert "4 items are stocked across 2 warehouses; 1 stock line is at zero." == result.summary

    jute = a.items[0]
    one = ask(qs, ctx, "stock_levels", item_id=jute.id)
    assert one.rows == [r[:6] for r in every if r[6] == jute.id]
    assert one.totals == {"quantity": sum((r[3] for r in one.rows), Decimal("0.000"))}
    assert one.summary.startswith(f"{jute.name} has {one.totals['quantity']:,.0f} units")

    port = a.warehouses[1]
    there = ask(qs, ctx, "stock_levels", warehouse_id=port.id)
    assert there.rows == [r[:6] for r in every if r[7] == port.id]
    both = ask(qs, ctx, "stock_levels", item_id=jute.id, warehouse_id=port.id)
    assert len(both.rows) == 1 and both.rows[0][2] == port.name


def test_below_reorder(qs: Session, a: World) -> None:
    ctx = a.ctx["inventory"]
    low = [r for r in levels(qs, a.id) if r[9] and r[10] and r[5] > 0 and r[3] < r[5]]
    low.sort(key=lambda r: (r[3] / r[5], r[0], r[2]))
    result = ask(qs, ctx, "below_reorder")
    assert result.rows == [[r[0], r[1], r[2], r[3], r[5], r[5] - r[3], r[11]] for r in low]
    assert len(result.rows) == 3
    assert result.rows[0][3] == 0  # the stock-out is the most urgent
    assert "(1 out of stock)" in result.summary

    main = a.warehouses[0]
    at_main = ask(qs, ctx, "below_reorder", warehouse_id=main.id)
    assert at_main.rows == [r for r in result.rows if r[2] == main.name]
    rod = a.items[3]  # reorder level 0: never below it
    none = ask(qs, ctx, "below_reorder", item_id=rod.id)
    assert none.rows == [] and none.summary == "No items are below their reorder level."


def test_inventory_valuation(qs: Session, a: World) -> None:
    ctx = a.ctx["inventory"]
    every = levels(qs, a.id)

    def valued(rows: list[list[Any]]) -> list[list[Any]]:
        per_item: dict[int, list[Any]] = {}
        for r in rows:
            item = per_item.setdefault(r[6], [r[0], r[1], Decimal("0.000"), r[8]])
            item[2] += r[3]
        out = [[*v, (v[2] * v[3]).quantize(Decimal("0.01"))] for v in per_item.values() if v[2]]
        return sorted(out, key=lambda r: (-r[4], r[0]))

    result = ask(qs, ctx, "inventory_valuation")
    expected = valued(every)
    assert result.rows == expected
    assert result.totals == {"value": sum((r[4] for r in expected), ZERO)}
    assert money_text(ctx, result.totals["value"]) in result.summary

    port = a.warehouses[1]
    there = ask(qs, ctx, "inventory_valuation", warehouse_id=port.id)
    assert there.rows == valued([r for r in every if r[7] == port.id])
    assert there.totals["value"] < result.totals["value"]
    jute = a.items[0]
    one = ask(qs, ctx, "inventory_valuation", item_id=jute.id)
    assert one.rows == valued([r for r in every if r[6] == jute.id])
    assert one.summary.startswith(f"{jute.name}: ")


def sales_by_month(
    session: Session, company_id: int, start: dt.date, end: dt.date, **extra: int
) -> list[list[Any]]:
    where = ""
    if "customer_id" in extra:
        where += " AND i.customer_id = :cust"
    if "item_id" in extra:
        rows = sql(
            session,
            f"""
            SELECT i.id, i.issue_date, l.net_amount FROM invoices i
            JOIN invoice_lines l ON l.invoice_id = i.id
            WHERE i.company_id = :c AND i.kind = 'ar' AND l.item_id = :item
              AND i.status IN ('posted', 'partially_paid', 'paid')
              AND i.issue_date BETWEEN :s AND :e {where}
            """,
            c=company_id,
            s=start,
            e=end,
            item=extra["item_id"],
            **({"cust": extra["customer_id"]} if "customer_id" in extra else {}),
        )
    else:
        rows = sql(
            session,
            f"""
            SELECT i.id, i.issue_date, i.subtotal FROM invoices i
            WHERE i.company_id = :c AND i.kind = 'ar'
              AND i.status IN ('posted', 'partially_paid', 'paid')
              AND i.issue_date BETWEEN :s AND :e {where}
            """,
            c=company_id,
            s=start,
            e=end,
            **({"cust": extra["customer_id"]} if "customer_id" in extra else {}),
        )
    months: dict[str, tuple[set[int], Decimal]] = {}
    for invoice_id, issued, amount in rows:
        ids, total = months.get(iso(issued)[:7], (set(), ZERO))
        months[iso(issued)[:7]] = (ids | {invoice_id}, total + dec(amount))
    return [[m, len(ids), total] for m, (ids, total) in sorted(months.items())]


def test_sales_summary(qs: Session, a: World) -> None:
    ctx = a.ctx["sales"]
    result = ask(qs, ctx, "sales_summary")
    expected = sales_by_month(qs, a.id, dt.date(2026, 6, 1), TODAY)
    assert result.rows == expected
    assert result.totals == {"sales": sum((r[2] for r in expected), ZERO)}
    assert "this month so far (1–15 Jun 2026)" in result.summary
    assert "net of tax" in result.summary
    assert money_text(ctx, result.totals["sales"]) in result.summary

    half = {"start": dt.date(2026, 1, 1), "end": TODAY}
    year = ask(qs, ctx, "sales_summary", period=half)
    assert year.rows == sales_by_month(qs, a.id, half["start"], TODAY)
    assert len(year.rows) > 3 and "The best month was" in year.summary

    rahman = a.customers[0]
    theirs = ask(qs, ctx, "sales_summary", period=half, customer_id=rahman.id)
    assert theirs.rows == sales_by_month(qs, a.id, half["start"], TODAY, customer_id=rahman.id)
    assert theirs.totals["sales"] < year.totals["sales"]
    assert f"Sales to {rahman.name}" in theirs.summary

    jute = a.items[0]
    of_item = ask(qs, ctx, "sales_summary", period=half, item_id=jute.id)
    assert of_item.rows == sales_by_month(qs, a.id, half["start"], TODAY, item_id=jute.id)
    assert of_item.rows and of_item.totals["sales"] < year.totals["sales"]

    nothing = ask(qs, ctx, "sales_summary", period={"start": "2020-02-01", "end": "2020-02-29"})
    assert nothing.rows == [] and "February 2020" in nothing.summary


def test_dashboard_summary(qs: Session, a: World) -> None:
    ctx = a.ctx["finance"]
    result = ask(qs, ctx, "dashboard_summary")
    (cash,) = sql(
        qs,
        """
        SELECT SUM(l.debit - l.credit) FROM journal_lines l
        JOIN journal_vouchers v ON v.id = l.voucher_id
        JOIN accounts acc ON acc.id = l.account_id
        WHERE l.company_id = :c AND acc.is_bank = :yes AND v.voucher_date <= :t
        """,
        c=a.id,
        t=TODAY,
        yes=True,
    )[0]
    open_ar = sql(
        qs,
        """
        SELECT kind, due_date, total - amount_paid FROM invoices
        WHERE company_id = :c AND status IN ('posted', 'partially_paid')
        """,
        c=a.id,
    )
    overdue = sum(
        (dec(o) for k, d, o in open_ar if k == "ar" and dt.date.fromisoformat(iso(d)) < TODAY),
        ZERO,
    )
    week = TODAY + dt.timedelta(days=7)
    ap_due = sum(
        (dec(o) for k, d, o in open_ar if k == "ap" and dt.date.fromisoformat(iso(d)) <= week),
        ZERO,
    )
    june = sales_by_month(qs, a.id, dt.date(2026, 6, 1), TODAY)
    may = sales_by_month(qs, a.id, dt.date(2026, 5, 1), dt.date(2026, 5, 31))
    ((n_po, po_value),) = sql(
        qs,
        """
        SELECT COUNT(*), SUM(total) FROM purchase_orders
        WHERE company_id = :c AND status = 'pending_approval'
        """,
        c=a.id,
    )
    expected = {
        "cash": dec(cash),
        "ar_overdue": overdue,
        "ap_due_7_days": ap_due,
        "sales_this_month": sum((r[2] for r in june), ZERO),
        "sales_last_month": sum((r[2] for r in may), ZERO),
        "pos_awaiting_approval": Decimal(n_po),
        "pos_awaiting_approval_value": dec(po_value),
    }
    assert result.totals == expected
    assert result.columns == ["figure", "value"]
    assert result.rows == [
        [DASHBOARD_LABELS[k], int(v) if k == "pos_awaiting_approval" else v]
        for k, v in expected.items()
    ]
    assert expected["cash"] == ask(qs, ctx, "cash_balance").totals["balance"]
    for value in (expected["cash"], overdue, ap_due):
        assert money_text(ctx, value) in result.summary
    assert "3 purchase orders worth" in result.summary

    # a caller who may read the ledger but not sales or purchasing sees only the ledger part
    narrow = dataclasses.replace(ctx, permissions=frozenset({"finance.read", "ai.use"}))
    partial = ask(qs, narrow, "dashboard_summary")
    assert set(partial.totals) == {"cash", "ar_overdue", "ap_due_7_days"}
    assert "purchase order" not in partial.summary and "Sales" not in partial.summary


def test_purchase_orders_and_approvals_by_how_long_they_have_waited(qs: Session, a: World) -> None:
    """'Waiting more than a week', 'older than 2 weeks': days since the order's date (the
    approval_waiting alert's measure), both bounds inclusive."""
    board = a.ctx["board"]
    waiting = ask(qs, board, "pending_approvals")
    ages = sorted({(TODAY - dt.date.fromisoformat(r[2])).days for r in waiting.rows})
    oldest = ages[-1]
    long_ = ask(qs, board, "pending_approvals", min_days=oldest)
    assert long_.rows == [
        r for r in waiting.rows if (TODAY - dt.date.fromisoformat(r[2])).days >= oldest
    ]
    assert long_.rows
    nobody = ask(qs, board, "pending_approvals", min_days=oldest + 1)
    assert nobody.rows == []
    assert nobody.summary == (
        f"No purchase order has been waiting more than {oldest} days for your approval."
    )
    procurement = a.ctx["procurement"]
    every = all_pos(qs, a.id)
    old = ask(qs, procurement, "purchase_orders", min_days=30)
    assert old.rows == [r[:5] for r in every if (TODAY - dt.date.fromisoformat(r[2])).days >= 30]
    assert 0 < len(old.rows) < len(every)
    assert "dated more than 29 days ago" in old.summary


@pytest.mark.parametrize("role", ["procurement", "board", "finance"])
def test_pending_approvals_say_how_many_wait_for_someone_else(
    qs: Session, a: World, role: str
) -> None:
    # "which POs are awaiting approval?" reads as the caller's queue: the orders awaiting
    # someone else's approval are counted beside it, not left out unsaid.
    mine = {r[0] for r in ask(qs, a.ctx[role], "pending_approvals").rows}
    waiting = [r for r in all_pos(qs, a.id) if r[3] == "pending_approval"]
    others = [r for r in waiting if r[0] not in mine]
    assert others  # every role here leaves some to another approver
    summary = ask(qs, a.ctx[role], "pending_approvals").summary
    amount = sum((r[4] for r in others), ZERO)
    assert f"{len(others)} {'more ' if mine else ''}purchase order" in summary, summary
    assert f"{amount:.2f}" in summary.replace(",", "")  # grouped the company's way
    assert "waiting for someone else's approval" in summary
