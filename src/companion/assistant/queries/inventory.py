"""Stock on hand, items below their reorder level, and the value of the inventory.

Definitions:
- stock levels: the quantity on hand per item and warehouse (``stock_levels``), zero
  levels included.
- below reorder: active tracked items whose quantity in a warehouse is strictly below the
  item's reorder level (items with a reorder level of 0 never are); shortfall = reorder
  level - quantity. Most urgent (lowest share of the level) first.
- inventory valuation: per item, the quantity on hand summed over the warehouses (one
  warehouse if given) times the item's unit cost, rounded to cents; the total is the sum of
  the items' values.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, func, select, type_coerce
from sqlalchemy.orm import Session

from companion.assistant.answers import join_words
from companion.assistant.queries.common import (
    MAX_ROWS,
    Answer,
    cut,
    given_filters,
    lookup_name,
    not_found,
    qty_sum,
    shown_note,
)
from companion.assistant.queries.registry import QueryParams, QueryResult, register
from companion.erp.items.models import Item, Warehouse
from companion.erp.stock.models import StockLevel, is_below_reorder
from companion.kit.db import Money
from companion.kit.money import ZERO, quantize
from companion.tenancy.context import RequestContext, in_company, scoped

_TABLES = ["stock_levels", "items", "warehouses"]
_FILTERS = ["item_id", "warehouse_id"]


def _levels(ctx: RequestContext, params: QueryParams, *columns: Any) -> Select[Any]:
    """Stock levels joined to item and warehouse, all of the caller's company, filtered."""
    stmt = (
        select(*columns)
        .select_from(StockLevel)
        .join(Item, Item.id == StockLevel.item_id)
        .join(Warehouse, Warehouse.id == StockLevel.warehouse_id)
        .where(
            in_company(StockLevel, ctx),
            in_company(Item, ctx),
            in_company(Warehouse, ctx),
        )
    )
    if params.item_id is not None:
        stmt = stmt.where(StockLevel.item_id == params.item_id)
    if params.warehouse_id is not None:
        stmt = stmt.where(StockLevel.warehouse_id == params.warehouse_id)
    return stmt


def _missing_filter(
    session: Session, ctx: RequestContext, params: QueryParams
) -> tuple[str | None, str | None, str | None]:
    """(item name, warehouse name, what was not found) for the filters given."""
    item = warehouse = None
    if params.item_id is not None:
        item = lookup_name(session, ctx, Item, params.item_id)
        if item is None:
            return None, None, "that item"
    if params.warehouse_id is not None:
        warehouse = lookup_name(session, ctx, Warehouse, params.warehouse_id)
        if warehouse is None:
            return None, None, "that warehouse"
    return item, warehouse, None


@register(
    "stock_levels",
    figure="stock",
    filters=set(_FILTERS),
    description="Quantity on hand per item and warehouse",
    lists=True,
)
def stock_levels(
    session: Session, ctx: RequestContext, params: QueryParams, today: dt.date
) -> QueryResult:
    """Quantity on hand per item and warehouse, by item then warehouse."""
    answer = Answer(ctx, today, _TABLES, given_filters(params, _FILTERS))
    columns = ["sku", "item", "warehouse", "quantity", "uom", "reorder_level"]
    item, warehouse, missing = _missing_filter(session, ctx, params)
    if missing:
        return not_found(answer, columns, missing)
    stmt = _levels(
        ctx,
        params,
        Item.sku,
        Item.name,
        Warehouse.name,
        StockLevel.quantity,
        Item.uom,
        Item.reorder_level,
    ).order_by(Item.name, Item.sku, Warehouse.name)
    if item is None:
        return _all_levels(session, ctx, params, answer, columns, stmt, warehouse)
    rows: list[list[Any]] = [list(r) for r in session.execute(stmt)]
    fmt = answer.fmt
    totals: dict[str, Decimal] = {}
    if item is not None:
        on_hand = sum((r[3] for r in rows), ZERO)
        totals["quantity"] = on_hand
        uom = rows[0][4] if rows else None
        where = f" in {warehouse}" if warehouse else ""
        if not rows or on_hand == 0:
            summary = f"{item} has no stock{where or ' in any warehouse'}."
        elif len(rows) == 1:
            summary = f"{item} has {fmt.quantity(on_hand, uom)} on hand in {rows[0][2]}."
        else:
            parts = join_words([f"{r[2]} {fmt.quantity(r[3])}" for r in rows])
            summary = (
                f"{item} has {fmt.quantity(on_hand, uom)} on hand across "
                f"{fmt.count(len(rows), 'warehouse')}: {parts}."
            )
        return answer.result(columns, rows, totals, summary, len(rows))


def _all_levels(
    session: Session,
    ctx: RequestContext,
    params: QueryParams,
    answer: Answer,
    columns: list[str],
    stmt: Select[Any],
    warehouse: str | None,
) -> QueryResult:
    """Every item's levels: counted in the database, only the rows shown read (12,000
    levels at a million invoices were read and counted in Python for 200 shown)."""
    matched, items, warehouses, empty = session.execute(
        _levels(
            ctx,
            params,
            func.count(),
            func.count(func.distinct(Item.sku)),
            func.count(func.distinct(Warehouse.name)),
            func.count(case((StockLevel.quantity == 0, 1))),
        )
    ).one()
    if not matched:
        where = f" in {warehouse}" if warehouse else ""
        return answer.empty(columns, f"No stock is recorded{where}.")
    fmt = answer.fmt
    zero_note = f"; {fmt.count(empty, 'stock line is', 'stock lines are')} at zero" if empty else ""
    if warehouse:
        summary = f"{warehouse} holds {fmt.count(items, 'item')}{zero_note}."
    else:
        summary = (
            f"{fmt.count(items, 'item')} are stocked across "
            f"{fmt.count(warehouses, 'warehouse')}{zero_note}."
        )
    shown: list[list[Any]] = [list(r) for r in session.execute(stmt.limit(MAX_ROWS))]
    summary += shown_note(len(shown), matched, "by item")
    return answer.result(
        columns, shown, {}, summary, matched, {"matched": matched, "shown": len(shown)}
    )


@register(
    "below_reorder",
    figure="stock",
    filters=set(_FILTERS),
    description="Items below their reorder level",
    title="items below their reorder level",
    lists=True,
)
def below_reorder(
    session: Session, ctx: RequestContext, params: QueryParams, today: dt.date
) -> QueryResult:
    """Item-warehouse levels strictly below the item's reorder level, most urgent first."""
    answer = Answer(ctx, today, _TABLES, given_filters(params, _FILTERS))
    columns = [
        "sku",
        "item",
        "warehouse",
        "quantity",
        "reorder_level",
        "shortfall",
        "reorder_qty",
    ]
    _, warehouse, missing = _missing_filter(session, ctx, params)
    if missing:
        return not_found(answer, columns, missing)
    stmt = _levels(
        ctx,
        params,
        Item.sku,
        Item.name,
        Warehouse.name,
        StockLevel.quantity,
        Item.reorder_level,
        Item.reorder_qty,
        Item.uom,
    ).where(is_below_reorder())
    found = sorted(session.execute(stmt).all(), key=lambda r: (r[3] / r[4], r[0], r[2]))
    rows: list[list[Any]] = [
        [sku, name, wh, qty, level, level - qty, reorder_qty]
        for sku, name, wh, qty, level, reorder_qty, _ in found
    ]
    where = f" in {warehouse}" if warehouse else ""
    if not rows:
        return answer.empty(columns, f"No items are below their reorder level{where}.")
    fmt = answer.fmt
    items = len({r[0] for r in rows})
    out = sum(1 for r in rows if r[3] == 0)
    first = found[0]
    place = "" if warehouse else f" in {fmt.count(len({r[2] for r in rows}), 'warehouse')}"
    out_note = f" ({out:,} out of stock)" if out else ""
    summary = (
        f"{fmt.count(items, 'item is', 'items are')} below their reorder level{where}{place}"
        f"{out_note}; the most urgent is {first[1]} in {first[2]}: "
        f"{fmt.quantity(first[3], first[6])} against a reorder level of {fmt.quantity(first[4])}."
    )
    shown, _ = cut(rows, None)
    summary += shown_note(len(shown), len(rows), "most urgent first")
    return answer.result(
        columns, shown, {}, summary, len(rows), {"matched": len(rows), "shown": len(shown)}
    )


@register(
    "inventory_valuation",
    figure="stock",
    filters=set(_FILTERS),
    description="The value of the stock on hand at cost",
)
def inventory_valuation(
    session: Session, ctx: RequestContext, params: QueryParams, today: dt.date
) -> QueryResult:
    """Per item: quantity on hand x unit cost; the total is the sum over items."""
    answer = Answer(ctx, today, _TABLES, given_filters(params, _FILTERS))
    columns = ["sku", "item", "quantity", "unit_cost", "value"]
    item, warehouse, missing = _missing_filter(session, ctx, params)
    if missing:
        return not_found(answer, columns, missing)
    rows, value, count, matched = _valued_items(session, ctx, params)
    warehouses = _warehouses_holding(session, ctx, params)
    fmt = answer.fmt
    where = f" in {warehouse}" if warehouse else ""
    if not rows:
        return answer.result(
            columns, [], {"value": value}, f"There is no stock on hand{where}.", count
        )
    if item is not None:
        summary = (
            f"{item}: {fmt.quantity(rows[0][2])} on hand{where}, worth "
            f"{fmt.money(value)} at cost ({fmt.money(rows[0][3])} each)."
        )
    else:
        place = where or f" in {fmt.count(int(warehouses), 'warehouse')}"
        summary = (
            f"Stock on hand is worth {fmt.money(value)} at cost across "
            f"{fmt.count(matched, 'item')}{place}; the most valuable is {rows[0][1]} "
            f"at {fmt.money(rows[0][4])}."
        )
    summary += shown_note(len(rows), matched, "most valuable first")
    return answer.result(
        columns,
        rows,
        {"value": value},
        summary,
        count,
        {"matched": matched, "shown": len(rows)},
    )


def _level_filters(ctx: RequestContext, params: QueryParams) -> list[ColumnElement[bool]]:
    """The caller's stock levels in its own warehouses, filtered (the item is checked where
    it is joined)."""
    conditions = [
        in_company(StockLevel, ctx),
        StockLevel.warehouse_id.in_(scoped(select(Warehouse.id), Warehouse, ctx)),
    ]
    if params.item_id is not None:
        conditions.append(StockLevel.item_id == params.item_id)
    if params.warehouse_id is not None:
        conditions.append(StockLevel.warehouse_id == params.warehouse_id)
    return conditions


def _warehouses_holding(session: Session, ctx: RequestContext, params: QueryParams) -> int:
    """How many of the caller's warehouses hold any stock (of the filtered item)."""
    # One level on hand answers for a warehouse (was: every level of the company joined to
    # its item, 9,386 lookups at a million invoices, for three warehouses).
    on_hand = (
        select(StockLevel.id)
        .join(Item, Item.id == StockLevel.item_id)
        .where(
            StockLevel.warehouse_id == Warehouse.id,
            StockLevel.quantity > 0,
            in_company(StockLevel, ctx),
            in_company(Item, ctx),
        )
    )
    if params.item_id is not None:
        on_hand = on_hand.where(StockLevel.item_id == params.item_id)
    stmt = scoped(select(func.count()).select_from(Warehouse), Warehouse, ctx).where(
        on_hand.exists()
    )
    if params.warehouse_id is not None:
        stmt = stmt.where(Warehouse.id == params.warehouse_id)
    return int(session.execute(stmt).scalar_one())


def _valued_items(
    session: Session, ctx: RequestContext, params: QueryParams
) -> tuple[list[list[Any]], Decimal, int, int]:
    """(rows shown, total value, stock levels read, items held) of the inventory valuation.

    Levels are summed per item and valued, ranked and cut by the database, with the total
    and the counts over every item (at a million invoices 4,387 items were valued, sorted
    and summed in Python for the 200 shown). When every item held is shown, the rows are
    valued, sorted and totalled in Python as before, exactly on both databases.
    """
    per_item = (
        select(
            StockLevel.item_id.label("item_id"),
            qty_sum(StockLevel.quantity).label("quantity"),
            func.count().label("levels"),
        )
        .where(*_level_filters(ctx, params))
        .group_by(StockLevel.item_id)
        .subquery()
    )
    quantity = per_item.c.quantity
    value = type_coerce(func.round(quantity * Item.unit_cost, 2), Money())
    held = case((quantity != 0, 1), else_=0)
    dialect = session.get_bind().dialect.name
    # SKUs tie-break in code-point order, as Python's sort does.
    sku_order = Item.sku.collate("C") if dialect == "postgresql" else Item.sku
    ranked = (
        select(
            Item.sku,
            Item.name,
            quantity,
            Item.unit_cost,
            func.sum(per_item.c.levels).over(),
            func.sum(held).over(),
            type_coerce(func.sum(value).over(), Money()),
        )
        .select_from(per_item)
        .join(Item, and_(Item.id == per_item.c.item_id, in_company(Item, ctx)))
        .order_by(held.desc(), value.desc(), sku_order)
        .limit(MAX_ROWS)
    )
    found = session.execute(ranked).all()
    if not found:
        return [], ZERO, 0, 0
    count, matched, value_over = int(found[0][4]), int(found[0][5]), Decimal(found[0][6])
    rows: list[list[Any]] = [
        [sku, name, qty, cost, quantize(qty * cost)]
        for sku, name, qty, cost, *_ in found
        if qty != 0
    ]
    if matched > MAX_ROWS:
        return rows, value_over, count, matched
    rows.sort(key=lambda r: (-r[4], r[0]))
    return rows, sum((r[4] for r in rows), ZERO), count, matched
