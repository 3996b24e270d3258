"""HTTP endpoints of outreach: collection scores and priorities, e-mail drafts (never sent).

Scores and reminders show what customers owe and how they pay, so they need
``finance.read`` (``sales.read`` would open them to the viewer role); the follow-up needs
``procurement.read``. Every route also needs ``ai.use``.

A draft is made in a model slot (``llm.admission``), queueing a while for one: when none
is had the answer is 503 (or 429 for a user at their share) with Retry-After. A score's
rationale takes a free slot or is left unworded. The drafts only read, so their sessions
take no write lock while the model works.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from companion.outreach import drafts, service
from companion.outreach.schemas import (
    CollectionScore,
    DraftOut,
    FollowUpIn,
    PriorityOut,
    ReminderIn,
)
from companion.tenancy.context import RequestContext
from companion.web.deps import (
    ContainerDep,
    Page,
    PageDep,
    RecordId,
    SessionDep,
    model_scope,
    reads_only,
    require,
)

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
    with model_scope(session, ctx):
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


_BUSY: dict[int | str, dict[str, Any]] = {
    429: {"description": "You have your share of model requests running; see Retry-After"},
    503: {"description": "Every model slot is taken; see Retry-After"},
}


@router.post("/drafts/payment-reminder", response_model=DraftOut, responses=_BUSY)
@reads_only
def draft_payment_reminder(
    body: ReminderIn, session: SessionDep, ctx: FinanceReader, container: ContainerDep
) -> DraftOut:
    """A payment reminder draft for a customer's overdue invoices; nothing is sent."""
    llm = container.llm()
    with (
        model_scope(session, ctx),
        llm.admitted(drafts.DRAFT_USE_CASE, ctx.company_slug, ctx.user_id),
    ):
        return service.payment_reminder(
            session, ctx, llm, body.customer_id, container.clock.today()
        )


@router.post("/drafts/supplier-follow-up", response_model=DraftOut, responses=_BUSY)
@reads_only
def draft_supplier_follow_up(
    body: FollowUpIn, session: SessionDep, ctx: ProcurementReader, container: ContainerDep
) -> DraftOut:
    """A follow-up draft to the supplier of a late purchase order; nothing is sent."""
    llm = container.llm()
    with (
        model_scope(session, ctx),
        llm.admitted(drafts.DRAFT_USE_CASE, ctx.company_slug, ctx.user_id),
    ):
        return service.supplier_follow_up(
            session, ctx, llm, body.purchase_order, container.clock.today()
        )
