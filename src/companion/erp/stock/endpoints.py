"""HTTP endpoints of the stock domain (tenant-scoped, permission-checked)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from companion.erp.stock import repository as repo
from companion.erp.stock.schemas import StockLevelOut
from companion.tenancy.context import RequestContext
from companion.web.deps import Page, PageDep, QueryId, SessionDep
from companion.web.figures import require_figure

router = APIRouter(tags=["stock"])

InventoryReader = Annotated[RequestContext, Depends(require_figure("stock"))]


@router.get("/stock-levels", response_model=Page[StockLevelOut])
def list_stock_levels(
    session: SessionDep,
    ctx: InventoryReader,
    page: PageDep,
    item_id: QueryId = None,
    warehouse_id: QueryId = None,
) -> Page[StockLevelOut]:
    """On-hand quantities per item and warehouse, by SKU."""
    rows, total = repo.list_levels(
        session,
        ctx,
        item_id=item_id,
        warehouse_id=warehouse_id,
        limit=page.limit,
        offset=page.offset,
    )
    return Page[StockLevelOut](items=rows, total=total, limit=page.limit, offset=page.offset)
