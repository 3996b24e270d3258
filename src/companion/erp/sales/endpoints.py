"""HTTP endpoints of the sales domain (tenant-scoped, permission-checked)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from companion.erp.sales import repository as repo
from companion.erp.sales.models import SalesOrderStatus
from companion.erp.sales.schemas import SalesOrderOut, SalesOrderSummaryOut
from companion.kit.fields import Text
from companion.tenancy.context import RequestContext
from companion.web.deps import Page, PageDep, QueryId, RecordId, SessionDep
from companion.web.figures import require_figure

DocNumber = Annotated[Text, Path(max_length=32, description="e.g. SO-2026-0001")]

router = APIRouter(tags=["sales"])

SalesReader = Annotated[RequestContext, Depends(require_figure("sales_orders"))]


@router.get("/sales-orders", response_model=Page[SalesOrderSummaryOut])
def list_sales_orders(
    session: SessionDep,
    ctx: SalesReader,
    page: PageDep,
    status: Annotated[SalesOrderStatus | None, Query()] = None,
    customer_id: QueryId = None,
    date_from: Annotated[dt.date | None, Query(description="Order date on or after")] = None,
    date_to: Annotated[dt.date | None, Query(description="Order date on or before")] = None,
) -> Page[SalesOrderSummaryOut]:
    """Sales orders of the active company, newest first."""
    rows, total = repo.list_orders(
        session,
        ctx,
        status=status.value if status else None,
        customer_id=customer_id,
        date_from=date_from,
        date_to=date_to,
        limit=page.limit,
        offset=page.offset,
    )
    return Page[SalesOrderSummaryOut](
        items=[SalesOrderSummaryOut.model_validate(r) for r in rows],
        total=total,
        limit=page.limit,
        offset=page.offset,
    )


@router.get("/sales-orders/by-number/{number}", response_model=SalesOrderOut)
def get_sales_order_by_number(
    session: SessionDep, ctx: SalesReader, number: DocNumber
) -> SalesOrderOut:
    """One sales order by its number, with lines."""
    return SalesOrderOut.model_validate(repo.get_order_by_number(session, ctx, number))


@router.get("/sales-orders/{order_id}", response_model=SalesOrderOut)
def get_sales_order(session: SessionDep, ctx: SalesReader, order_id: RecordId) -> SalesOrderOut:
    """One sales order, with lines."""
    return SalesOrderOut.model_validate(repo.get_order(session, ctx, order_id))
