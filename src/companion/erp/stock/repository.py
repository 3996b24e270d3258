"""Every query on stock levels and moves, scoped to the caller's company."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from companion.erp.items.models import Item, Warehouse
from companion.erp.stock.models import StockLevel, StockMove, is_below_reorder
from companion.erp.stock.schemas import ReorderRow, StockLevelOut, ValuationRow
from companion.kit.money import ZERO, money
from companion.tenancy.context import RequestContext, scoped

QTY_ZERO = Decimal("0.000")


def level_for_update(
    session: Session, ctx: RequestContext, item_id: int, warehouse_id: int
) -> StockLevel | None:
    """The level row of an item in a warehouse, locked until the transaction ends."""
    stmt = (
        scoped(select(StockLevel), StockLevel, ctx)
        .where(StockLevel.item_id == item_id, StockLevel.warehouse_id == warehouse_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return session.execute(stmt).scalar_one_or_none()


def add_level(session: Session, ctx: RequestContext, item_id: int, warehouse_id: int) -> StockLevel:
    """A new, empty level row."""
    level = StockLevel(
        company_id=ctx.company_id, item_id=item_id, warehouse_id=warehouse_id, quantity=QTY_ZERO
    )
    session.add(level)
    session.flush()
    return level


def add_move(session: Session, move: StockMove) -> StockMove:
    """Insert a move."""
    session.add(move)
    session.flush()
    return move


def on_hand(session: Session, ctx: RequestContext, item_id: int, warehouse_id: int) -> Decimal:
    """Quantity of an item in a warehouse (zero when it never held any)."""
    return on_hand_many(session, ctx, warehouse_id, [item_id]).get(item_id, QTY_ZERO)


def on_hand_many(
    session: Session, ctx: RequestContext, warehouse_id: int, item_ids: Iterable[int]
) -> dict[int, Decimal]:
    """Quantities of several items in one warehouse; items never held there are left out."""
    ids = set(item_ids)
    if not ids:
        return {}
    stmt = scoped(select(StockLevel.item_id, StockLevel.quantity), StockLevel, ctx).where(
        StockLevel.warehouse_id == warehouse_id, StockLevel.item_id.in_(ids)
    )
    return {item_id: qty for item_id, qty in session.execute(stmt)}


def _levels_query(
    ctx: RequestContext, item_id: int | None, warehouse_id: int | None
) -> Select[StockLevel, Item, Warehouse]:
    stmt = (
        scoped(select(StockLevel, Item, Warehouse), StockLevel, ctx)
        .join(Item, Item.id == StockLevel.item_id)
        .join(Warehouse, Warehouse.id == StockLevel.warehouse_id)
    )
    if item_id is not None:
        stmt = stmt.where(StockLevel.item_id == item_id)
    if warehouse_id is not None:
        stmt = stmt.where(StockLevel.warehouse_id == warehouse_id)
    return stmt


def list_levels(
    session: Session,
    ctx: RequestContext,
    *,
    item_id: int | None = None,
    warehouse_id: int | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[StockLevelOut], int]:
    """A page of stock levels by SKU and warehouse code, and the total."""
    stmt = _levels_query(ctx, item_id, warehouse_id)
    total = session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
    rows = session.execute(stmt.order_by(Item.sku, Warehouse.code).limit(limit).offset(offset))
    return [
        StockLevelOut(
            item_id=item.id,
            sku=item.sku,
            item_name=item.name,
            warehouse_id=wh.id,
            warehouse_code=wh.code,
            quantity=level.quantity,
            reorder_level=item.reorder_level,
        )
        for level, item, wh in rows
    ], int(total)


def below_reorder(
    session: Session, ctx: RequestContext, *, warehouse_id: int | None = None
) -> list[ReorderRow]:
    """Tracked, active items whose quantity in a warehouse is below their reorder level.

    A warehouse that never held the item does not count: not every item is kept everywhere.
    """
    stmt = _levels_query(ctx, None, warehouse_id).where(is_below_reorder())
    rows = session.execute(stmt.order_by(Item.sku, Warehouse.code))
    return [
        ReorderRow(
            item_id=item.id,
            sku=item.sku,
            item_name=item.name,
            warehouse_id=wh.id,
            warehouse_code=wh.code,
            quantity=level.quantity,
            reorder_level=item.reorder_level,
            reorder_qty=item.reorder_qty,
            shortfall=item.reorder_level - level.quantity,
        )
        for level, item, wh in rows
    ]


def valuation(
    session: Session, ctx: RequestContext, *, warehouse_id: int | None = None
) -> tuple[list[ValuationRow], Decimal]:
    """Stock on hand valued at each item's unit cost, per item and warehouse, and the total."""
    stmt = _levels_query(ctx, None, warehouse_id).where(StockLevel.quantity > 0)
    rows: list[ValuationRow] = []
    total = ZERO
    for level, item, wh in session.execute(stmt.order_by(Item.sku, Warehouse.code)):
        value = money(level.quantity * item.unit_cost)
        total += value
        rows.append(
            ValuationRow(
                item_id=item.id,
                sku=item.sku,
                warehouse_id=wh.id,
                warehouse_code=wh.code,
                quantity=level.quantity,
                unit_cost=item.unit_cost,
                value=value,
            )
        )
    return rows, total


def moves_by_reference(session: Session, ctx: RequestContext, reference: str) -> list[StockMove]:
    """The moves that carry a document reference (``SO-2026-0001``), oldest first."""
    stmt = scoped(select(StockMove), StockMove, ctx).where(StockMove.reference == reference)
    return list(session.execute(stmt.order_by(StockMove.id)).scalars())
