"""Where items usually come from: the supplier of most of an item's purchase orders."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from companion.erp.purchasing.models import (
    ON_ORDER_STATUSES,
    PLACED_STATUSES,
    PurchaseOrder,
    PurchaseOrderLine,
)
from companion.tenancy.context import RequestContext, scoped


def usual_suppliers(
    session: Session, ctx: RequestContext, item_ids: Iterable[int]
) -> dict[int, int]:
    """item id -> the supplier of most of its placed orders (the latest order breaks ties)."""
    wanted = sorted(set(item_ids))
    if not wanted:
        return {}
    stmt = (
        select(
            PurchaseOrderLine.item_id,
            PurchaseOrder.supplier_id,
            func.count(func.distinct(PurchaseOrder.id)),
            func.max(PurchaseOrder.order_date),
        )
        .join(PurchaseOrder, PurchaseOrder.id == PurchaseOrderLine.order_id)
        .where(PurchaseOrderLine.item_id.in_(wanted), PurchaseOrder.status.in_(PLACED_STATUSES))
        .group_by(PurchaseOrderLine.item_id, PurchaseOrder.supplier_id)
    )
    stmt = scoped(scoped(stmt, PurchaseOrder, ctx), PurchaseOrderLine, ctx)
    best: dict[int, tuple[int, dt.date, int]] = {}
    for item_id, supplier_id, orders, latest in session.execute(stmt):
        rank = (int(orders), latest, -int(supplier_id))
        if item_id not in best or rank > best[item_id]:
            best[item_id] = rank
    return {item_id: -rank[2] for item_id, rank in best.items()}


def on_order(
    session: Session, ctx: RequestContext, item_ids: Iterable[int]
) -> dict[tuple[int, int | None], Decimal]:
    """(item id, warehouse id) -> quantity ordered and not yet received, over open orders."""
    wanted = sorted(set(item_ids))
    if not wanted:
        return {}
    stmt = (
        select(
            PurchaseOrderLine.item_id,
            PurchaseOrder.warehouse_id,
            func.sum(PurchaseOrderLine.quantity - PurchaseOrderLine.received_quantity),
        )
        .join(PurchaseOrder, PurchaseOrder.id == PurchaseOrderLine.order_id)
        .where(PurchaseOrderLine.item_id.in_(wanted), PurchaseOrder.status.in_(ON_ORDER_STATUSES))
        .group_by(PurchaseOrderLine.item_id, PurchaseOrder.warehouse_id)
    )
    stmt = scoped(scoped(stmt, PurchaseOrder, ctx), PurchaseOrderLine, ctx)
    return {(int(item), wh): Decimal(str(qty or 0)) for item, wh, qty in session.execute(stmt)}
