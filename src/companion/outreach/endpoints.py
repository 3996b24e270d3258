"""HTTP endpoints of outreach: collection scores and priorities, e-mail drafts (never sent).

Scores and reminders show what customers owe and how they pay, so they need
``finance.read`` (``sales.read`` would open them to the viewer role); the follow-up needs
``procurement.read``. Every route also needs ``ai.use``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from companion.outreach import service
from companion.outreach.schemas import (
    CollectionScore,
    DraftOut,
    FollowUpIn,
    PriorityOut,
    ReminderIn,
)
from companion.tenancy.context import RequestContext
from companion.web.deps import ContainerDep, Page, PageDep, RecordId, SessionDep, require

router = APIRouter(prefix="/ai", tags=["assistant"], dependencies=[Depends(require("ai.use"))])

FinanceReader = Annotated[RequestContext, Depends(require("finance.read"))]
ProcurementReader = Annotated[RequestContext, Depends(require("procurement.read"))]


@router.get("/customers/{customer_id}/collection-score", response_model=CollectionScore)
def get_collection_score(
    session: SessionDep,
    ctx: FinanceReader,
    container: ContainerDep,
    customer_id: RecordId,
    explain: Annotated[
        bool, Query(description="Let the model word the rationale (policy score_customer)")
    ] = True,
) -> CollectionScore:
    """A customer's collection-priority score: factors, points, band and rationale."""
    return service.collection_score(
        session, ctx, container.llm(), customer_id, container.clock.today(), explain=explain
    )


@router.get("/collection-priorities", response_model=Page[PriorityOut])
def list_collection_priorities(
    session: SessionDep, ctx: FinanceReader, container: ContainerDep, page: PageDep
) -> Page[PriorityOut]:
    """Customers who owe anything, highest collection score first."""
    items, total = service.collection_priorities(
        session, ctx, container.clock.today(), limit=page.limit, offset=page.offset
    )
    return Page[PriorityOut](items=items, total=total, limit=page.limit, offset=page.offset)


@router.post("/drafts/payment-reminder", response_model=DraftOut)
def draft_payment_reminder(
    body: ReminderIn, session: SessionDep, ctx: FinanceReader, container: ContainerDep
) -> DraftOut:
    """A payment reminder draft for a customer's overdue invoices; nothing is sent."""
    return service.payment_reminder(
        session, ctx, container.llm(), body.customer_id, container.clock.today()
    )


@router.post("/drafts/supplier-follow-up", response_model=DraftOut)
def draft_supplier_follow_up(
    body: FollowUpIn, session: SessionDep, ctx: ProcurementReader, container: ContainerDep
) -> DraftOut:
    """A follow-up draft to the supplier of a late purchase order; nothing is sent."""
    return service.supplier_follow_up(
        session, ctx, container.llm(), body.purchase_order, container.clock.today()
    )
