"""Sales figures and the dashboard's headline numbers.

Definitions:
- sales: the subtotal (net of tax, after discounts) of AR invoices with status posted,
  partially_paid or paid, by issue date in the period (default this month so far); for
  one item, the net amount of that item's invoice lines. Rows are per calendar month.
- dashboard: cash (all bank accounts as of today), AR overdue (open AR invoices due before
  today), AP due within 7 days (open AP bills due on or before today + 7 days, overdue ones
  included), sales this month so far and in the whole previous month, and purchase orders
  pending approval (count and value, whoever must approve). Sales and purchase-order
  figures appear only for callers who may read those figures (``tenancy.figures``).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from companion.assistant.answers import date_text
from companion.assistant.queries.common import (
    Answer,
    Window,
    given_filters,
    lookup_name,
    money_sum,
    month_to_date,
    not_found,
    on_date,
    previous_month,
    resolve_period,
)
from companion.assistant.queries.finance import bank_balance_total
from companion.assistant.queries.registry import QueryParams, QueryResult, register
from companion.erp.invoicing.models import (
    SALES_AMOUNT,
    SALES_DATE,
    SALES_LINE_AMOUNT,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    is_open,
    is_sale,
)
from companion.erp.items.models import Item
from companion.erp.parties.models import Customer
from companion.erp.purchasing.models import POStatus, PurchaseOrder
from companion.kit.money import ZERO
from companion.tenancy.context import RequestContext, in_company, scoped
from companion.tenancy.figures import figure_permission


def _sales_by_day(
    ctx: RequestContext, window: Window, customer_id: int | None, item_id: int | None
) -> Select[dt.date, int, Decimal]:
    """(issue date, invoices, sales) per day of the window, of the caller's company."""
    if item_id is None:
        amount = money_sum(SALES_AMOUNT)
        # count(*), not count(id): ``ix_invoices_issued`` holds every column read (index-only)
        invoices = func.count()
        stmt = select(SALES_DATE, invoices, amount).select_from(Invoice)
    else:
        amount = money_sum(SALES_LINE_AMOUNT)
        invoices = func.count(func.distinct(Invoice.id))
        stmt = (
            select(SALES_DATE, invoices, amount)
            .select_from(Invoice)
            .join(InvoiceLine, InvoiceLine.invoice_id == Invoice.id)
            .where(in_company(InvoiceLine, ctx), InvoiceLine.item_id == item_id)
        )
    stmt = stmt.where(
        in_company(Invoice, ctx),
        is_sale(),
        SALES_DATE >= window.start,
        SALES_DATE <= window.end,
    ).group_by(SALES_DATE)
    if customer_id is not None:
        stmt = stmt.where(Invoice.customer_id == customer_id)
    return stmt


def _first_sale(ctx: RequestContext) -> Select[dt.date | None]:
    """The date of the caller's company's first sale (None: no sale recorded)."""
    return select(func.min(SALES_DATE)).where(in_company(Invoice, ctx), is_sale())


def sales_total(session: Session, ctx: RequestContext, window: Window) -> tuple[Decimal, int]:
    """Sales (net of tax) and the number of invoices in a period."""
    total, count = ZERO, 0
    for _, n, amount in session.execute(_sales_by_day(ctx, window, None, None)):
        total += amount
        count += n
    return total, count


@register(
    "sales_summary",
    figure="sales_totals",
    filters={"period", "customer_id", "item_id"},
    description="Sales (net of tax) in a period, by month",
    title="sales",
)
def sales_summary(
    session: Session, ctx: RequestContext, params: QueryParams, today: dt.date
) -> QueryResult:
    """Sales net of tax in the period (default this month so far), per calendar month."""
    window = resolve_period(params, today, month_to_date)
    filters = {"period": window.filter_value(), **given_filters(params, ["customer_id", "item_id"])}
    tables = ["invoices", "invoice_lines"] if params.item_id is not None else ["invoices"]
    answer = Answer(ctx, today, tables, filters, window.end)
    columns = ["month", "invoices", "sales"]
    customer = item = None
    if params.customer_id is not None:
        customer = lookup_name(session, ctx, Customer, params.customer_id)
        if customer is None:
            return not_found(answer, columns, "that customer")
    if params.item_id is not None:
        item = lookup_name(session, ctx, Item, params.item_id)
        if item is None:
            return not_found(answer, columns, "that item")
    months: dict[str, list[Any]] = defaultdict(lambda: [0, ZERO])
    for day, n, amount in session.execute(
        _sales_by_day(ctx, window, params.customer_id, params.item_id)
    ):
        month = months[f"{day.year:04d}-{day.month:02d}"]
        month[0] += n
        month[1] += amount
    rows: list[list[Any]] = [[m, n, amount] for m, (n, amount) in sorted(months.items())]
    total = sum((r[2] for r in rows), ZERO)
    count = sum(r[1] for r in rows)
    what = "Sales" + (f" of {item}" if item else "") + (f" to {customer}" if customer else "")
    if not rows:
        summary = f"{what} in {window.text()} were nil: no invoices were issued."
        first = session.execute(_first_sale(ctx)).scalar()
        if first is None or first > window.end:
            # Nothing recorded yet then: "no invoices were issued" would claim what the
            # records can't say (the company may have sold before using Companion).
            since = f"before {date_text(first)}" if first is not None else "yet"
            summary = (
                f"Companion has no sales recorded {since}, so it can't say what sales were in "
                f"{window.text()}."
            )
        return answer.result(columns, [], {"sales": total}, summary, 0)
    fmt = answer.fmt
    summary = (
        f"{what} in {window.text()} were {fmt.money(total)} net of tax, "
        f"from {fmt.count(count, 'invoice')}."
    )
    if len(rows) > 1:
        best = max(rows, key=lambda r: (r[2], r[0]))
        label = dt.date(int(best[0][:4]), int(best[0][5:]), 1).strftime("%B %Y")
        summary += f" The best month was {label} at {fmt.money(best[2])}."
        summary += _part_months(window.start, window.end)
    return answer.result(columns, rows, {"sales": total}, summary, count)


def _part_months(start: dt.date, end: dt.date) -> str:
    """The note on a window that starts within a month ("the last 3 months": 21 Aug to
    20 Nov), whose first and last month rows hold only part of their month."""
    if start.day == 1:
        return ""
    first = f"{start:%B} counts from {start.day} {start:%b}"
    if (end + dt.timedelta(days=1)).day == 1:
        return f" {first} (part of the month)."
    return f" {first} and {end:%B} up to {end.day} {end:%b} (part months)."


def _open_sum(
    session: Session, ctx: RequestContext, kind: InvoiceKind, due_before: dt.date
) -> tuple[Decimal, int]:
    """Open amount and count of invoices or bills due before ``due_before``."""
    # count(*), not count(id): ``ix_invoices_open`` holds every column read, so PostgreSQL
    # reads it index-only (with ``id`` it fetched 43,900 rows from the heap at 1M invoices)
    amount, n = session.execute(
        scoped(
            select(money_sum(Invoice.open_amount), func.count()),
            Invoice,
            ctx,
        ).where(is_open(kind), Invoice.due_date < due_before)
    ).one()
    return Decimal(amount), int(n)


DASHBOARD_LABELS = {
    "cash": "Cash in bank",
    "ar_overdue": "Customer invoices overdue",
    "ap_due_7_days": "Bills due within 7 days",
    "sales_this_month": "Sales this month (net of tax)",
    "sales_last_month": "Sales last month (net of tax)",
    "pos_awaiting_approval": "Purchase orders awaiting approval",
    "pos_awaiting_approval_value": "Value of purchase orders awaiting approval",
}
DASHBOARD_COUNTS = frozenset({"pos_awaiting_approval"})


@register(
    "dashboard_summary",
    figure="dashboard",
    description="Headline figures: cash, overdue receivables, bills due, sales, approvals",
    title="dashboard",
)
def dashboard_summary(
    session: Session, ctx: RequestContext, params: QueryParams, today: dt.date
) -> QueryResult:
    """Cash, AR overdue, AP due within 7 days, sales this vs last month, POs awaiting approval."""
    answer = Answer(
        ctx,
        today,
        ["journal_lines", "journal_vouchers", "bank_accounts", "invoices", "purchase_orders"],
        {},
    )
    fmt = answer.fmt
    cash = bank_balance_total(session, ctx, today)
    # overdue: open and due before today (``is_overdue``); bills due up to today + 7 days
    ar_overdue, n_overdue = _open_sum(session, ctx, InvoiceKind.AR, today)
    ap_due, n_due = _open_sum(session, ctx, InvoiceKind.AP, today + dt.timedelta(days=8))
    figures: dict[str, Decimal] = {
        "cash": cash,
        "ar_overdue": ar_overdue,
        "ap_due_7_days": ap_due,
    }
    count = n_overdue + n_due
    sentences = [
        f"Cash is {fmt.money(cash)} {on_date(today)}; {fmt.money(ar_overdue)} of customer "
        f"invoices are overdue and {fmt.money(ap_due)} of bills are due within 7 days "
        "(overdue included)."
    ]
    more: list[str] = []
    if ctx.can(figure_permission("sales_totals")):
        this_month, last_month = month_to_date(today), previous_month(today)
        sales_now, n_now = sales_total(session, ctx, this_month)
        sales_before, n_before = sales_total(session, ctx, last_month)
        figures["sales_this_month"] = sales_now
        figures["sales_last_month"] = sales_before
        count += n_now + n_before
        more.append(
            f"sales in {this_month.text()} are {fmt.money(sales_now)} net of tax, against "
            f"{fmt.money(sales_before)} in {last_month.text()}"
        )
    if ctx.can(figure_permission("purchase_orders")):
        po_value, po_count = session.execute(
            scoped(
                select(money_sum(PurchaseOrder.total), func.count(PurchaseOrder.id)),
                PurchaseOrder,
                ctx,
            ).where(
                PurchaseOrder.status == POStatus.PENDING_APPROVAL.value,
            )
        ).one()
        figures["pos_awaiting_approval"] = Decimal(po_count)
        figures["pos_awaiting_approval_value"] = Decimal(po_value)
        count += int(po_count)
        more.append(
            f"{fmt.count(int(po_count), 'purchase order')} worth {fmt.money(po_value)} "
            f"{'awaits' if po_count == 1 else 'await'} approval"
        )
    if more:
        text = "; ".join(more)
        sentences.append(text[0].upper() + text[1:] + ".")
    # Rows read as a person would say them; `totals` keeps the machine keys.
    rows: list[list[Any]] = [
        [DASHBOARD_LABELS[key], int(value) if key in DASHBOARD_COUNTS else value]
        for key, value in figures.items()
    ]
    return answer.result(["figure", "value"], rows, figures, " ".join(sentences), count)
