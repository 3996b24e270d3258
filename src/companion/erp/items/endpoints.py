"""HTTP endpoints of the items domain (tenant-scoped, permission-checked)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from companion.erp.items import repository as repo
from companion.erp.items.schemas import ItemOut, WarehouseOut
from companion.kit.fields import Text
from companion.tenancy.context import RequestContext
from companion.web.deps import Page, PageDep, RecordId, SessionDep
from companion.web.figures import require_figure

router = APIRouter(tags=["items"])

InventoryReader = Annotated[RequestContext, Depends(require_figure("stock"))]


@router.get("/items", response_model=Page[ItemOut])
def list_items(
    session: SessionDep,
    ctx: InventoryReader,
    page: PageDep,
    q: Annotated[Text | None, Query(max_length=200, description="SKU or name contains")] = None,
    below_reorder: Annotated[
        bool, Query(description="Only items below their reorder level in some warehouse")
    ] = False,
    active: Annotated[bool | None, Query()] = None,
) -> Page[ItemOut]:
    """Items of the active company, by SKU."""
    rows, total = repo.list_items(
        session,
        ctx,
        q=q,
        below_reorder=below_reorder,
        active=active,
        limit=page.limit,
        offset=page.offset,
    )
    return Page[ItemOut](
        items=[ItemOut.model_validate(r) for r in rows],
        total=total,
        limit=page.limit,
        offset=page.offset,
    )


@router.get("/items/{item_id}", response_model=ItemOut)
def get_item(session: SessionDep, ctx: InventoryReader, item_id: RecordId) -> ItemOut:
    """One item."""
    return ItemOut.model_validate(repo.get_item(session, ctx, item_id))


@router.get("/warehouses", response_model=list[WarehouseOut])
def list_warehouses(session: SessionDep, ctx: InventoryReader) -> list[WarehouseOut]:
    """Warehouses of the active company, by code."""
    return [WarehouseOut.model_validate(w) for w in repo.list_warehouses(session, ctx)]
