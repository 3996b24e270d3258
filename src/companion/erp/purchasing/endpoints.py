"""HTTP endpoints of the purchasing domain (tenant-scoped, permission-checked)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from companion.erp.purchasing import repository as repo
from companion.erp.purchasing.approvals import pending_approvals_for
from companion.erp.purchasing.models import POStatus
from companion.erp.purchasing.schemas import (
    PendingApprovalOut,
    PurchaseOrderOut,
    PurchaseOrderSummaryOut,
)
from companion.kit.fields import Text
from companion.tenancy.context import RequestContext
from companion.web.deps import Page, PageDep, QueryId, RecordId, SessionDep
from companion.web.figures import require_figure

DocNumber = Annotated[Text, Path(max_length=32, description="e.g. PO-2026-0001")]

router = APIRouter(tags=["purchasing"])

ProcurementReader = Annotated[RequestContext, Depends(require_figure("purchase_orders"))]


@router.get("/purchase-orders", response_model=Page[PurchaseOrderSummaryOut])
def list_purchase_orders(
    session: SessionDep,
    ctx: ProcurementReader,
    page: PageDep,
    status: Annotated[POStatus | None, Query()] = None,
    supplier_id: QueryId = None,
    date_from: Annotated[dt.date | None, Query(description="Order date on or after")] = None,
    date_to: Annotated[dt.date | None, Query(description="Order date on or before")] = None,
) -> Page[PurchaseOrderSummaryOut]:
    """Purchase orders of the active company, newest first."""
    rows, total = repo.list_orders(
        session,
        ctx,
        status=status.value if status else None,
        supplier_id=supplier_id,
        date_from=date_from,
        date_to=date_to,
        limit=page.limit,
        offset=page.offset,
    )
    return Page[PurchaseOrderSummaryOut](
        items=[PurchaseOrderSummaryOut.model_validate(r) for r in rows],
        total=total,
        limit=page.limit,
        offset=page.offset,
    )


@router.get("/purchase-orders/by-number/{number}", response_model=PurchaseOrderOut)
def get_purchase_order_by_number(
    session: SessionDep, ctx: ProcurementReader, number: DocNumber
) -> PurchaseOrderOut:
    """One purchase order by its number, with lines and approval tasks."""
    return PurchaseOrderOut.model_validate(repo.get_order_by_number(session, ctx, number))


@router.get("/purchase-orders/{order_id}", response_model=PurchaseOrderOut)
def get_purchase_order(
    session: SessionDep, ctx: ProcurementReader, order_id: RecordId
) -> PurchaseOrderOut:
    """One purchase order, with lines and approval tasks."""
    return PurchaseOrderOut.model_validate(repo.get_order(session, ctx, order_id))


@router.get("/approvals/pending", response_model=list[PendingApprovalOut])
def list_pending_approvals(session: SessionDep, ctx: ProcurementReader) -> list[PendingApprovalOut]:
    """Approval tasks the caller can decide now."""
    return [PendingApprovalOut.of(t) for t in pending_approvals_for(session, ctx)]
