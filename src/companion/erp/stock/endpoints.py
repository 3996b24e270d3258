"""HTTP endpoints of the stock domain (tenant-scoped, permission-checked)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from companion.erp.stock import repository as repo
from companion.erp.stock.schemas import ReorderRow, StockLevelOut, ValuationOut
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


@router.get("/stock-levels/below-reorder", response_model=list[ReorderRow])
def list_below_reorder(
    session: SessionDep, ctx: InventoryReader, warehouse_id: QueryId = None
) -> list[ReorderRow]:
    """Item-warehouse levels below the item's reorder level (as the low-stock alert reads)."""
    return repo.below_reorder(session, ctx, warehouse_id=warehouse_id)


@router.get("/stock-levels/valuation", response_model=ValuationOut)
def stock_valuation(
    session: SessionDep, ctx: InventoryReader, warehouse_id: QueryId = None
) -> ValuationOut:
    """Stock on hand at each item's unit cost, per item and warehouse, and the total."""
    rows, total = repo.valuation(session, ctx, warehouse_id=warehouse_id)
    return ValuationOut(rows=rows, total=total, currency=ctx.currency)
