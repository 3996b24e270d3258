"""Daily sales series: the one definition of sales, per day, for detectors to read.

Sales are the subtotal (net of tax, after discounts) of customer invoices posted, partially
paid or paid, by issue date (``is_sale``, ``SALES_AMOUNT``, ``SALES_LINE_AMOUNT`` of
``erp.invoicing.models``, as the semantic layer and the sales query read them); per item,
the net amount of that item's invoice lines. Days without sales are absent.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy import distinct, func, literal, select, type_coerce
from sqlalchemy.orm import Session

from companion.erp.invoicing.models import (
    SALES_AMOUNT,
    SALES_DATE,
    SALES_LINE_AMOUNT,
    Invoice,
    InvoiceLine,
    is_sale,
)
from companion.kit.db import Money
from companion.tenancy.context import RequestContext, scoped

By = Literal["company", "customer", "item"]


@dataclass(frozen=True)
class DaySales:
    """One day's sales of the company (``key`` None), of one customer or of one item."""

    day: dt.date
    key: int | None
    net: Decimal
    invoices: int


def daily_sales(
    session: Session, ctx: RequestContext, first: dt.date, last: dt.date, *, by: By = "company"
) -> list[DaySales]:
    """Net sales and the number of invoices per day from ``first`` to ``last`` (inclusive)."""
    within = (SALES_DATE >= first, SALES_DATE <= last)
    net: Any
    if by == "item":
        key: Any = InvoiceLine.item_id
        net = func.sum(SALES_LINE_AMOUNT)
        stmt: Any = (
            select(
                Invoice.issue_date, key, type_coerce(net, Money()), func.count(distinct(Invoice.id))
            )
            .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
            .where(is_sale(), *within, key.is_not(None))
        )
        stmt = scoped(scoped(stmt, Invoice, ctx), InvoiceLine, ctx)
    else:
        key = Invoice.customer_id if by == "customer" else literal(0)
        net = func.sum(SALES_AMOUNT)
        stmt = select(
            Invoice.issue_date, key, type_coerce(net, Money()), func.count(Invoice.id)
        ).where(is_sale(), *within)
        stmt = scoped(stmt, Invoice, ctx)
    grouped = (
        stmt.group_by(Invoice.issue_date, key)
        if by != "company"
        else stmt.group_by(Invoice.issue_date)
    )
    out = [
        DaySales(day, None if by == "company" else int(k), Decimal(value or 0), int(n))
        for day, k, value, n in session.execute(grouped)
    ]
    return sorted(out, key=lambda r: (r.day, r.key or 0))


def top_sellers(
    session: Session, ctx: RequestContext, first: dt.date, last: dt.date, *, by: By, limit: int
) -> list[int]:
    """The ids of the ``limit`` customers or items with the most sales between the dates."""
    totals: dict[int, Decimal] = {}
    for row in daily_sales(session, ctx, first, last, by=by):
        if row.key is not None:
            totals[row.key] = totals.get(row.key, Decimal("0")) + row.net
    return [k for k, _ in sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]]
