"""HTTP endpoints of payments: customer receipts and supplier payments (read-only)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from companion.erp.payments import repository as repo
from companion.erp.payments.models import PaymentKind, PaymentStatus
from companion.erp.payments.schemas import PaymentFilters, PaymentOut
from companion.kit.fields import Text
from companion.tenancy.context import RequestContext
from companion.web.deps import Page, PageDep, QueryId, RecordId, SessionDep
from companion.web.figures import require_figure

router = APIRouter(tags=["payments"])

FinanceReader = Annotated[RequestContext, Depends(require_figure("payments"))]


@router.get("/payments", response_model=Page[PaymentOut])
def list_payments(
    session: SessionDep,
    ctx: FinanceReader,
    page: PageDep,
    kind: PaymentKind | None = None,
    status: PaymentStatus | None = None,
    customer_id: QueryId = None,
    supplier_id: QueryId = None,
    bank_account_id: QueryId = None,
    from_date: Annotated[dt.date | None, Query(alias="from")] = None,
    to_date: Annotated[dt.date | None, Query(alias="to")] = None,
    q: Annotated[Text | None, Query(max_length=64, description="Number contains")] = None,
) -> Page[PaymentOut]:
    """Receipts and payments, newest first, each with its allocations."""
    filters = PaymentFilters(
        kind=kind,
        status=status,
        customer_id=customer_id,
        supplier_id=supplier_id,
        bank_account_id=bank_account_id,
        from_date=from_date,
        to_date=to_date,
        q=q,
    )
    rows, total = repo.list_payments(session, ctx, filters, limit=page.limit, offset=page.offset)
    return Page[PaymentOut](
        items=[PaymentOut.of(p) for p in rows], total=total, limit=page.limit, offset=page.offset
    )


@router.get("/payments/{payment_id}", response_model=PaymentOut)
def get_payment(session: SessionDep, ctx: FinanceReader, payment_id: RecordId) -> PaymentOut:
    """One receipt or payment with its allocations."""
    return PaymentOut.of(repo.get_payment(session, ctx, payment_id))
