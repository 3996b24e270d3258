"""Every query on items and warehouses, scoped to the caller's company."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from companion.erp.items.models import Item, Warehouse
from companion.erp.parties.repository import like_pattern
from companion.erp.stock.models import StockLevel, is_below_reorder
from companion.errors import Conflict, NotFound
from companion.tenancy.context import RequestContext, scoped


def get_item(session: Session, ctx: RequestContext, item_id: int) -> Item:
    """One item of the caller's company; another company's is NotFound.

    By primary key (``session.get``): an item this transaction already read costs no
    statement, which matters where one action's steps each look it up.
    """
    item = session.get(Item, item_id)
    if item is None or item.company_id != ctx.company_id:
        raise NotFound(f"Item {item_id} not found", details={"item_id": item_id})
    return item


def get_warehouse(session: Session, ctx: RequestContext, warehouse_id: int) -> Warehouse:
    """One warehouse of the caller's company; another company's is NotFound (by primary
    key, as ``get_item``)."""
    warehouse = session.get(Warehouse, warehouse_id)
    if warehouse is None or warehouse.company_id != ctx.company_id:
        raise NotFound(
            f"Warehouse {warehouse_id} not found", details={"warehouse_id": warehouse_id}
        )
    return warehouse


def item_by_sku(session: Session, ctx: RequestContext, sku: str) -> Item | None:
    """The company's item with ``sku``, if any."""
    return session.execute(
        scoped(select(Item), Item, ctx).where(Item.sku == sku)
    ).scalar_one_or_none()


def warehouse_by_code(session: Session, ctx: RequestContext, code: str) -> Warehouse | None:
    """The company's warehouse with ``code``, if any."""
    return session.execute(
        scoped(select(Warehouse), Warehouse, ctx).where(Warehouse.code == code)
    ).scalar_one_or_none()


def active_warehouses(session: Session, ctx: RequestContext) -> list[Warehouse]:
    """The company's active warehouses, by code."""
    stmt = scoped(select(Warehouse), Warehouse, ctx).where(Warehouse.is_active.is_(True))
    return list(session.execute(stmt.order_by(Warehouse.code)).scalars())


def list_warehouses(session: Session, ctx: RequestContext) -> list[Warehouse]:
    """All the company's warehouses, by code."""
    stmt = scoped(select(Warehouse), Warehouse, ctx).order_by(Warehouse.code)
    return list(session.execute(stmt).scalars())


def add(session: Session, row: Item | Warehouse, what: str) -> None:
    """Insert ``row``; a unique-constraint race with another transaction is a Conflict."""
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError as exc:
        raise Conflict(f"{what} is already in use") from exc


def list_items(
    session: Session,
    ctx: RequestContext,
    *,
    q: str | None = None,
    below_reorder: bool = False,
    active: bool | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Item], int]:
    """A page of items by SKU and the total; ``below_reorder`` keeps items short anywhere."""
    stmt = scoped(select(Item), Item, ctx)
    if q and q.strip():
        pattern = like_pattern(q)
        stmt = stmt.where(
            or_(
                func.lower(Item.sku).like(pattern, escape="\\"),
                func.lower(Item.name).like(pattern, escape="\\"),
            )
        )
    if active is not None:
        stmt = stmt.where(Item.is_active.is_(active))
    if below_reorder:
        short = scoped(select(StockLevel.item_id), StockLevel, ctx).where(
            StockLevel.item_id == Item.id, is_below_reorder()
        )
        stmt = stmt.where(short.exists())
    total = session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
    rows = session.execute(stmt.order_by(Item.sku).limit(limit).offset(offset)).scalars()
    return list(rows), int(total)


def items_by_ids(session: Session, ctx: RequestContext, item_ids: Iterable[int]) -> dict[int, Item]:
    """The company's items among ``item_ids``, by id (others' items are simply absent)."""
    ids = set(item_ids)
    if not ids:
        return {}
    stmt = scoped(select(Item), Item, ctx).where(Item.id.in_(ids))
    return {item.id: item for item in session.execute(stmt).scalars()}
