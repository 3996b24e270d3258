"""Moving stock: receipts, issues, adjustments and transfers.

The rule: tracked stock never goes negative in any warehouse. Every move updates its
``StockLevel`` rows in the same flush (locked while the transaction runs) and is audited.
Untracked items (services) get a move on receipt or issue but no levels.

Receipts and issues are also steps of sales and purchasing flows. Those flows check their
own permission and pass it as ``permission``; a direct receipt or issue needs
``inventory.adjust``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from companion.audit import service as audit
from companion.erp.items import repository as items_repo
from companion.erp.items.models import Item, Warehouse
from companion.erp.ledger.models import AccountRole
from companion.erp.stock import repository as repo
from companion.erp.stock.accounting import post_stock_journal, stock_value
from companion.erp.stock.models import MoveType, StockLevel, StockMove
from companion.errors import BusinessRuleViolation
from companion.kit.money import money
from companion.tenancy.context import RequestContext

_QTY_PLACES = Decimal("0.001")


def check_quantity(value: Decimal | int | str, what: str = "quantity") -> Decimal:
    """A positive quantity with at most three decimals, as a Decimal (floats refused)."""
    if isinstance(value, float):
        raise TypeError(f"{what} must not be a float")
    qty = Decimal(value)
    if not qty.is_finite() or qty <= 0:
        raise BusinessRuleViolation(f"The {what} must be positive", details={what: str(value)})
    if qty.quantize(_QTY_PLACES) != qty:
        raise BusinessRuleViolation(
            f"The {what} {value} has more than three decimals", details={what: str(value)}
        )
    return qty.quantize(_QTY_PLACES)


def receive_stock(
    session: Session,
    ctx: RequestContext,
    *,
    item_id: int,
    warehouse_id: int,
    quantity: Decimal,
    unit_cost: Decimal | None = None,
    on: dt.date,
    reference: str | None = None,
    permission: str = "inventory.adjust",
) -> StockMove:
    """Put stock into a warehouse at ``unit_cost`` (default the item's cost)."""
    ctx.require(permission)
    qty = check_quantity(quantity)
    item, warehouse = _item_and_warehouse(session, ctx, item_id, warehouse_id)
    _refuse_inactive(warehouse)
    cost = item.unit_cost if unit_cost is None else unit_cost
    if cost < 0 or money(cost) != cost:
        raise BusinessRuleViolation(
            "The unit cost must be zero or more, in whole cents", details={"unit_cost": str(cost)}
        )
    cost = money(cost)
    before, after = _change_level(session, ctx, item, warehouse, qty)
    move = _move(
        ctx, MoveType.RECEIPT, item, qty, cost, on, to_id=warehouse.id, reference=reference
    )
    return _record(session, ctx, move, {"on_hand": before}, {"on_hand": after})


def issue_stock(
    session: Session,
    ctx: RequestContext,
    *,
    item_id: int,
    warehouse_id: int,
    quantity: Decimal,
    on: dt.date,
    reference: str | None = None,
    permission: str = "inventory.adjust",
) -> StockMove:
    """Take stock out of a warehouse; more than is on hand is refused."""
    ctx.require(permission)
    qty = check_quantity(quantity)
    item, warehouse = _item_and_warehouse(session, ctx, item_id, warehouse_id)
    before, after = _change_level(session, ctx, item, warehouse, -qty)
    move = _move(
        ctx,
        MoveType.ISSUE,
        item,
        qty,
        item.unit_cost,
        on,
        from_id=warehouse.id,
        reference=reference,
    )
    return _record(session, ctx, move, {"on_hand": before}, {"on_hand": after})


def adjust_stock(
    session: Session,
    ctx: RequestContext,
    *,
    item_id: int,
    warehouse_id: int,
    quantity_delta: Decimal,
    reason: str,
    on: dt.date,
) -> StockMove:
    """Correct the count of a tracked item (inventory.adjust), posting Inventory vs Adjustments."""
    move, _ = adjust_stock_counted(
        session,
        ctx,
        item_id=item_id,
        warehouse_id=warehouse_id,
        quantity_delta=quantity_delta,
        reason=reason,
        on=on,
    )
    return move


def adjust_stock_counted(
    session: Session,
    ctx: RequestContext,
    *,
    item_id: int,
    warehouse_id: int,
    quantity_delta: Decimal,
    reason: str,
    on: dt.date,
) -> tuple[StockMove, Decimal]:
    """``adjust_stock``, also returning the quantity on hand after it (no read to learn it)."""
    item, warehouse, delta, qty, reason = _adjustment(
        session, ctx, item_id, warehouse_id, quantity_delta, reason
    )
    before, after = _change_level(session, ctx, item, warehouse, delta)
    assert after is not None  # an adjusted item is tracked, so it has a level
    move = _move(
        ctx,
        MoveType.ADJUSTMENT,
        item,
        qty,
        item.unit_cost,
        on,
        to_id=warehouse.id if delta > 0 else None,
        from_id=warehouse.id if delta < 0 else None,
        reason=reason,
    )
    _record(session, ctx, move, {"on_hand": before}, {"on_hand": after})
    debit, credit = _adjustment_sides(delta)
    post_stock_journal(
        session,
        ctx,
        on=on,
        memo=f"Stock adjustment {item.sku} in {warehouse.code}: {reason}"[:500],
        debit=debit,
        credit=credit,
        amount=stock_value(qty, item.unit_cost),
        source_type="stock_move",
        source_id=move.id,
    )
    return move, after.quantize(_QTY_PLACES)  # as the level stores it


@dataclass(frozen=True)
class AdjustmentPlan:
    """What ``adjust_stock`` would do with the level as last committed."""

    item: Item
    warehouse: Warehouse
    quantity: Decimal  # the move's (positive) quantity
    before: Decimal
    after: Decimal
    value: Decimal  # the voucher's amount; zero: no voucher
    debit: AccountRole
    credit: AccountRole


def plan_adjustment(
    session: Session,
    ctx: RequestContext,
    *,
    item_id: int,
    warehouse_id: int,
    quantity_delta: Decimal,
    reason: str,
) -> AdjustmentPlan:
    """``adjust_stock``'s checks and effects, read without writing or locking anything.

    For a preview that must not wait for an adjustment being committed: the same rules refuse
    the same requests against the level as last committed, and ``adjust_stock`` checks them
    again under the level's lock when it runs.
    """
    item, warehouse, delta, qty, _ = _adjustment(
        session, ctx, item_id, warehouse_id, quantity_delta, reason
    )
    before = repo.on_hand(session, ctx, item.id, warehouse.id)
    _, after = _checked_quantities(item, warehouse, before, delta)
    debit, credit = _adjustment_sides(delta)
    value = stock_value(qty, item.unit_cost)
    return AdjustmentPlan(item, warehouse, qty, before, after, value, debit, credit)


def _adjustment(
    session: Session,
    ctx: RequestContext,
    item_id: int,
    warehouse_id: int,
    quantity_delta: Decimal,
    reason: str,
) -> tuple[Item, Warehouse, Decimal, Decimal, str]:
    """An adjustment's checks: (item, warehouse, signed delta, quantity, reason)."""
    ctx.require("inventory.adjust")
    reason = (reason or "").strip()
    if not reason:
        raise BusinessRuleViolation("A stock adjustment needs a reason")
    if len(reason) > 500:
        raise BusinessRuleViolation("The reason is longer than 500 characters")
    if isinstance(quantity_delta, float):
        raise TypeError("quantity_delta must not be a float")
    delta = Decimal(quantity_delta)
    qty = check_quantity(abs(delta), "quantity_delta")
    item, warehouse = _item_and_warehouse(session, ctx, item_id, warehouse_id)
    _require_tracked(item)
    if delta > 0:
        _refuse_inactive(warehouse)
    return item, warehouse, delta, qty, reason


def _adjustment_sides(delta: Decimal) -> tuple[AccountRole, AccountRole]:
    """(debit, credit): a gain is Dr Inventory / Cr Adjustments, a loss the other way."""
    if delta > 0:
        return AccountRole.INVENTORY, AccountRole.STOCK_ADJUSTMENT
    return AccountRole.STOCK_ADJUSTMENT, AccountRole.INVENTORY


def transfer_stock(
    session: Session,
    ctx: RequestContext,
    *,
    item_id: int,
    from_warehouse_id: int,
    to_warehouse_id: int,
    quantity: Decimal,
    on: dt.date,
) -> StockMove:
    """Move a tracked item between two warehouses (inventory.adjust); no more than is on hand."""
    ctx.require("inventory.adjust")
    qty = check_quantity(quantity)
    if from_warehouse_id == to_warehouse_id:
        raise BusinessRuleViolation("A transfer needs two different warehouses")
    item, source = _item_and_warehouse(session, ctx, item_id, from_warehouse_id)
    target = items_repo.get_warehouse(session, ctx, to_warehouse_id)
    _require_tracked(item)
    _refuse_inactive(target)
    # Lock in a fixed order so two opposite transfers cannot deadlock.
    locked = {
        w.id: _lock_level(session, ctx, item, w)
        for w in sorted((source, target), key=lambda w: w.id)
    }
    from_before, from_after = _checked_change(item, source, locked[source.id], -qty)
    to_before, to_after = _checked_change(item, target, locked[target.id], qty)
    _apply(session, ctx, item, source, locked[source.id], from_after)
    _apply(session, ctx, item, target, locked[target.id], to_after)
    move = _move(
        ctx, MoveType.TRANSFER, item, qty, item.unit_cost, on, from_id=source.id, to_id=target.id
    )
    return _record(
        session,
        ctx,
        move,
        {"from_on_hand": from_before, "to_on_hand": to_before},
        {"from_on_hand": from_after, "to_on_hand": to_after},
    )


def _item_and_warehouse(
    session: Session, ctx: RequestContext, item_id: int, warehouse_id: int
) -> tuple[Item, Warehouse]:
    return items_repo.get_item(session, ctx, item_id), items_repo.get_warehouse(
        session, ctx, warehouse_id
    )


def _require_tracked(item: Item) -> None:
    if not item.is_tracked:
        raise BusinessRuleViolation(
            f"{item.sku} is not tracked in stock", details={"item_id": item.id, "sku": item.sku}
        )


def _refuse_inactive(warehouse: Warehouse) -> None:
    if not warehouse.is_active:
        raise BusinessRuleViolation(
            f"Warehouse {warehouse.code} is inactive", details={"warehouse_id": warehouse.id}
        )


def _change_level(
    session: Session, ctx: RequestContext, item: Item, warehouse: Warehouse, delta: Decimal
) -> tuple[Decimal | None, Decimal | None]:
    """Apply ``delta`` to the level row; (before, after), or (None, None) for untracked items."""
    if not item.is_tracked:
        return None, None
    level = _lock_level(session, ctx, item, warehouse)
    before, after = _checked_change(item, warehouse, level, delta)
    _apply(session, ctx, item, warehouse, level, after)
    return before, after


def _lock_level(
    session: Session, ctx: RequestContext, item: Item, warehouse: Warehouse
) -> StockLevel | None:
    return repo.level_for_update(session, ctx, item.id, warehouse.id)


def _checked_change(
    item: Item, warehouse: Warehouse, level: StockLevel | None, delta: Decimal
) -> tuple[Decimal, Decimal]:
    """(before, after) of a change, refused when it would leave the level negative."""
    before = level.quantity if level is not None else repo.QTY_ZERO
    return _checked_quantities(item, warehouse, before, delta)


def _checked_quantities(
    item: Item, warehouse: Warehouse, before: Decimal, delta: Decimal
) -> tuple[Decimal, Decimal]:
    after = before + delta
    if after < 0:
        raise BusinessRuleViolation(
            f"Not enough {item.sku} in {warehouse.code}: {before} on hand, {-delta} needed",
            details={
                "item_id": item.id,
                "sku": item.sku,
                "warehouse_id": warehouse.id,
                "on_hand": str(before),
                "requested": str(-delta),
            },
        )
    return before, after


def _apply(
    session: Session,
    ctx: RequestContext,
    item: Item,
    warehouse: Warehouse,
    level: StockLevel | None,
    quantity: Decimal,
) -> None:
    if level is None:
        level = repo.add_level(session, ctx, item.id, warehouse.id)
    level.quantity = quantity


def _move(
    ctx: RequestContext,
    move_type: MoveType,
    item: Item,
    quantity: Decimal,
    unit_cost: Decimal,
    on: dt.date,
    *,
    from_id: int | None = None,
    to_id: int | None = None,
    reference: str | None = None,
    reason: str | None = None,
) -> StockMove:
    return StockMove(
        company_id=ctx.company_id,
        move_type=move_type.value,
        item_id=item.id,
        from_warehouse_id=from_id,
        to_warehouse_id=to_id,
        quantity=quantity,
        unit_cost=unit_cost,
        move_date=on,
        reference=reference[:64] if reference else None,
        reason=reason,
        created_by_id=ctx.user_id,
    )


def _record(
    session: Session,
    ctx: RequestContext,
    move: StockMove,
    old: dict[str, Any],
    new: dict[str, Any],
) -> StockMove:
    repo.add_move(session, move)
    audit.record(
        session,
        ctx,
        f"stock.{move.move_type}",
        "stock_move",
        move.id,
        old=old,
        new={**snapshot(move), **new},
    )
    return move


def snapshot(move: StockMove) -> dict[str, Any]:
    """A move's fields as the audit log records them."""
    return {
        "move_type": move.move_type,
        "item_id": move.item_id,
        "from_warehouse_id": move.from_warehouse_id,
        "to_warehouse_id": move.to_warehouse_id,
        "quantity": move.quantity,
        "unit_cost": move.unit_cost,
        "move_date": move.move_date,
        "reference": move.reference,
        "reason": move.reason,
    }
