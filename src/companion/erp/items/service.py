"""Creating items and warehouses: unique codes, permissions, audit."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from companion.audit import service as audit
from companion.erp.items import repository as repo
from companion.erp.items.models import Item, Warehouse
from companion.erp.items.schemas import ItemIn, WarehouseIn
from companion.errors import BusinessRuleViolation, Conflict, ValidationFailed
from companion.tenancy.context import RequestContext

_ITEM_FIELDS = tuple(ItemIn.model_fields)


def require_any(ctx: RequestContext, *permissions: str) -> None:
    """Pass when the caller holds any of ``permissions``; otherwise name the first one missing."""
    if not any(ctx.can(p) for p in permissions):
        ctx.require(permissions[0])


def create_item(session: Session, ctx: RequestContext, data: ItemIn) -> Item:
    """Add an item (inventory.adjust or procurement.write); a duplicate SKU is a Conflict."""
    require_any(ctx, "inventory.adjust", "procurement.write")
    existing = repo.item_by_sku(session, ctx, data.sku)
    if existing is not None:
        raise Conflict(
            f"An item with SKU {data.sku} already exists",
            details={"field": "sku", "existing_id": existing.id},
        )
    item = Item(company_id=ctx.company_id, **data.model_dump())
    repo.add(session, item, f"SKU {data.sku}")
    audit.record(session, ctx, "item.create", "item", item.id, new=_snapshot(item, _ITEM_FIELDS))
    return item


def create_warehouse(session: Session, ctx: RequestContext, *, code: str, name: str) -> Warehouse:
    """Add a warehouse (inventory.adjust); a duplicate code is a Conflict."""
    ctx.require("inventory.adjust")
    try:
        data = WarehouseIn(code=code, name=name)
    except ValidationError as exc:
        raise ValidationFailed(
            "Invalid warehouse",
            details={
                "errors": exc.errors(include_input=False, include_context=False, include_url=False)
            },
        ) from exc
    existing = repo.warehouse_by_code(session, ctx, data.code)
    if existing is not None:
        raise Conflict(
            f"A warehouse with code {data.code} already exists",
            details={"field": "code", "existing_id": existing.id},
        )
    warehouse = Warehouse(company_id=ctx.company_id, code=data.code, name=data.name)
    repo.add(session, warehouse, f"Warehouse code {data.code}")
    audit.record(
        session,
        ctx,
        "warehouse.create",
        "warehouse",
        warehouse.id,
        new={"code": warehouse.code, "name": warehouse.name},
    )
    return warehouse


def _snapshot(row: Item, fields: tuple[str, ...]) -> dict[str, Any]:
    return {f: getattr(row, f) for f in fields}


def default_warehouse(session: Session, ctx: RequestContext) -> Warehouse:
    """The company's only active warehouse; with several, the caller must choose one."""
    warehouses = repo.active_warehouses(session, ctx)
    if len(warehouses) == 1:
        return warehouses[0]
    if not warehouses:
        raise BusinessRuleViolation("The company has no active warehouse; create one first")
    raise BusinessRuleViolation(
        "Choose a warehouse: the company has several",
        details={"warehouses": [{"id": w.id, "code": w.code} for w in warehouses]},
    )
