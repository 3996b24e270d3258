"""Every query on sales orders, scoped to the caller's company."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from companion.erp.invoicing.models import Invoice, InvoiceKind, is_open
from companion.erp.sales.models import SalesOrder, SalesOrderLine, SalesOrderStatus
from companion.errors import NotFound
from companion.kit.money import ZERO
from companion.tenancy.context import RequestContext, scoped


def get_order(
    session: Session, ctx: RequestContext, order_id: int, *, for_update: bool = False
) -> SalesOrder:
    """One order with its lines; ``for_update`` locks it until the transaction ends."""
    stmt = (
        scoped(select(SalesOrder), SalesOrder, ctx)
        .where(SalesOrder.id == order_id)
        .options(selectinload(SalesOrder.lines))
    )
    if for_update:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    order = session.execute(stmt).scalar_one_or_none()
    if order is None:
        raise NotFound(f"Sales order {order_id} not found", details={"order_id": order_id})
    return order


def get_order_by_number(session: Session, ctx: RequestContext, number: str) -> SalesOrder:
    """One order by its number (``SO-2026-0001``)."""
    stmt = (
        scoped(select(SalesOrder), SalesOrder, ctx)
        .where(SalesOrder.number == number.strip().upper())
        .options(selectinload(SalesOrder.lines))
    )
    order = session.execute(stmt).scalar_one_or_none()
    if order is None:
        raise NotFound(f"Sales order {number} not found", details={"number": number})
    return order


def list_orders(
    session: Session,
    ctx: RequestContext,
    *,
    status: str | None = None,
    customer_id: int | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[SalesOrder], int]:
    """A page of orders, newest first, and the total; dates are inclusive."""
    stmt = scoped(select(SalesOrder), SalesOrder, ctx)
    if status is not None:
        stmt = stmt.where(SalesOrder.status == status)
    if customer_id is not None:
        stmt = stmt.where(SalesOrder.customer_id == customer_id)
    if date_from is not None:
        stmt = stmt.where(SalesOrder.order_date >= date_from)
    if date_to is not None:
        stmt = stmt.where(SalesOrder.order_date <= date_to)
    total = session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
    rows = session.execute(
        stmt.order_by(SalesOrder.order_date.desc(), SalesOrder.number.desc())
        .limit(limit)
        .offset(offset)
    ).scalars()
    return list(rows), int(total)


def open_receivables(session: Session, ctx: RequestContext, customer_id: int) -> Decimal:
    """What the customer still owes on posted AR invoices."""
    stmt = scoped(select(func.coalesce(func.sum(Invoice.open_amount), 0)), Invoice, ctx).where(
        is_open(InvoiceKind.AR), Invoice.customer_id == customer_id
    )
    value = session.execute(stmt).scalar_one()
    return ZERO + Decimal(str(value))


def reserved_quantities(
    session: Session,
    ctx: RequestContext,
    warehouse_id: int,
    item_ids: Iterable[int],
    *,
    exclude_order_id: int,
) -> dict[int, Decimal]:
    """Quantities promised to other confirmed, undelivered orders from the warehouse."""
    ids = set(item_ids)
    if not ids:
        return {}
    stmt = (
        scoped(
            select(SalesOrderLine.item_id, func.sum(SalesOrderLine.quantity)), SalesOrderLine, ctx
        )
        .join(SalesOrder, SalesOrder.id == SalesOrderLine.order_id)
        .where(
            SalesOrder.status == SalesOrderStatus.CONFIRMED.value,
            SalesOrder.warehouse_id == warehouse_id,
            SalesOrder.id != exclude_order_id,
            SalesOrderLine.item_id.in_(ids),
        )
        .group_by(SalesOrderLine.item_id)
    )
    return {item_id: Decimal(str(qty)) for item_id, qty in session.execute(stmt)}


def daily_orders(
    session: Session, ctx: RequestContext, first: dt.date, last: dt.date
) -> dict[dt.date, int]:
    """Sales orders taken per day from ``first`` to ``last``, whatever became of them."""
    stmt = (
        scoped(select(SalesOrder.order_date, func.count(SalesOrder.id)), SalesOrder, ctx)
        .where(SalesOrder.order_date >= first, SalesOrder.order_date <= last)
        .group_by(SalesOrder.order_date)
    )
    return {day: int(n) for day, n in session.execute(stmt)}
