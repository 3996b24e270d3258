"""HTTP endpoints of invoicing: AR invoices and AP bills (read-only)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from companion.erp.invoicing import dues_repository as dues
from companion.erp.invoicing import repository as repo
from companion.erp.invoicing.models import InvoiceKind, InvoiceStatus
from companion.erp.invoicing.schemas import InvoiceFilters, InvoiceOut, OpenAmountOut
from companion.kit.fields import Text
from companion.tenancy.context import RequestContext
from companion.web.deps import ContainerDep, Page, PageDep, QueryId, RecordId, SessionDep
from companion.web.figures import require_figure

router = APIRouter(tags=["invoicing"])

FinanceReader = Annotated[RequestContext, Depends(require_figure("invoices"))]


@router.get("/invoices", response_model=Page[InvoiceOut])
def list_invoices(
    session: SessionDep,
    ctx: FinanceReader,
    container: ContainerDep,
    page: PageDep,
    kind: InvoiceKind | None = None,
    status: InvoiceStatus | None = None,
    customer_id: QueryId = None,
    supplier_id: QueryId = None,
    from_date: Annotated[
        dt.date | None, Query(alias="from", description="Issued on or after")
    ] = None,
    to_date: Annotated[dt.date | None, Query(alias="to", description="Issued on or before")] = None,
    overdue: Annotated[bool, Query(description="Only open documents past their due date")] = False,
    q: Annotated[Text | None, Query(max_length=64, description="Number contains")] = None,
) -> Page[InvoiceOut]:
    """Invoices and bills, newest first, each with its lines."""
    filters = InvoiceFilters(
        kind=kind,
        status=status,
        customer_id=customer_id,
        supplier_id=supplier_id,
        from_date=from_date,
        to_date=to_date,
        overdue=overdue,
        q=q,
    )
    rows, total = repo.list_invoices(
        session,
        ctx,
        filters,
        today=container.clock.today(),
        limit=page.limit,
        offset=page.offset,
    )
    return Page[InvoiceOut](
        items=[InvoiceOut.model_validate(r) for r in rows],
        total=total,
        limit=page.limit,
        offset=page.offset,
    )


@router.get("/invoices/open-amount", response_model=OpenAmountOut)
def open_amount(
    session: SessionDep,
    ctx: FinanceReader,
    kind: Annotated[
        InvoiceKind, Query(description="ar (default): owed by customers; ap: to suppliers")
    ] = InvoiceKind.AR,
) -> OpenAmountOut:
    """The open amount of all posted or partially paid invoices (AR) or bills (AP)."""
    amount, documents = dues.open_total(session, ctx, kind)
    return OpenAmountOut(kind=kind, open_amount=amount, documents=documents, currency=ctx.currency)


@router.get("/invoices/by-number/{number}", response_model=InvoiceOut)
def get_invoice_by_number(
    session: SessionDep,
    ctx: FinanceReader,
    number: Annotated[Text, Path(max_length=32, description="e.g. INV-2026-0107")],
) -> InvoiceOut:
    """One invoice or bill by its number."""
    return InvoiceOut.model_validate(repo.get_invoice_by_number(session, ctx, number))


@router.get("/invoices/{invoice_id}", response_model=InvoiceOut)
def get_invoice(session: SessionDep, ctx: FinanceReader, invoice_id: RecordId) -> InvoiceOut:
    """One invoice or bill with its lines."""
    return InvoiceOut.model_validate(repo.get_invoice(session, ctx, invoice_id))
