"""Outreach rules: collection scores and ranking, payment reminders, supplier follow-ups.

Nothing is sent and nothing is written: every function reads the ledger and answers.

Error choices: a reminder for a customer with nothing overdue, or a follow-up on an order
that is not late, is ``409`` (``InvalidState``: the request is well formed, the record's
state is what forbids it), with the codes ``nothing_overdue`` and ``purchase_order_not_late``.
A score for a customer with nothing overdue is an ordinary (low) score, never an error.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy.orm import Session

from companion.erp.parties import repository as parties
from companion.erp.purchasing.models import OPEN_STATUSES as OPEN_ORDER_STATUSES
from companion.erp.purchasing.models import PurchaseOrder
from companion.errors import InvalidState
from companion.llm.service import LLMService
from companion.outreach import drafts
from companion.outreach.facts import repository as repo
from companion.outreach.schemas import (
    CollectionScore,
    DocumentFact,
    DraftOut,
    FactorOut,
    PriorityOut,
    Recipient,
)
from companion.outreach.scoring import Factor, Score, overdue_items, rank, score_customer
from companion.tenancy.context import RequestContext


class NothingOverdue(InvalidState):
    code = "nothing_overdue"


class PurchaseOrderNotLate(InvalidState):
    code = "purchase_order_not_late"


def _factor_out(factor: Factor) -> FactorOut:
    return FactorOut(
        name=factor.name,
        label=factor.label,
        value=factor.value,
        unit=factor.unit,
        weight=factor.weight,
        points=factor.points,
        detail=factor.detail,
    )


def _score(session: Session, ctx: RequestContext, customer_id: int, today: dt.date) -> Score:
    customer = parties.get_customer(session, ctx, customer_id)
    (facts,) = repo.customer_facts(session, ctx, [customer], today)
    largest = repo.largest_overdue(session, ctx, today)
    return score_customer(facts, today, largest_overdue=largest, locale=ctx.locale)


def collection_score(
    session: Session,
    ctx: RequestContext,
    llm: LLMService,
    customer_id: int,
    today: dt.date,
    *,
    explain: bool = True,
) -> CollectionScore:
    """A customer's collection score; with ``explain`` a model may word the rationale."""
    ctx.require("finance.read")
    score = _score(session, ctx, customer_id, today)
    if explain:
        worded = drafts.word_rationale(llm, ctx.company_slug, score)
    else:
        worded = drafts.Worded(score.rationale, False, "not_requested")
    return CollectionScore(
        customer_id=score.customer_id,
        customer_name=score.customer_name,
        currency=score.currency,
        as_of=today,
        score=score.total,
        band=score.band,
        overdue_amount=score.overdue_amount,
        overdue_invoices=score.overdue_count,
        outstanding=score.outstanding,
        factors=[_factor_out(f) for f in score.factors],
        rationale=worded.text,
        rationale_by="model" if worded.by_model else "template",
        reason=worded.reason,
        offending=list(worded.offending),
    )


def collection_priorities(
    session: Session, ctx: RequestContext, today: dt.date, *, limit: int, offset: int
) -> tuple[list[PriorityOut], int]:
    """The company's customers who owe anything, highest score first, and how many there are.

    Rationales are the template's: a model call per row would make a page take minutes.
    """
    ctx.require("finance.read")
    customers = repo.customers_with_open_items(session, ctx)
    largest = repo.largest_overdue(session, ctx, today)
    scores = rank(
        [
            score_customer(facts, today, largest_overdue=largest, locale=ctx.locale)
            for facts in repo.customer_facts(session, ctx, customers, today)
        ]
    )
    page = [
        PriorityOut(
            rank=offset + position,
            customer_id=s.customer_id,
            customer_name=s.customer_name,
            score=s.total,
            band=s.band,
            overdue_amount=s.overdue_amount,
            overdue_invoices=s.overdue_count,
            outstanding=s.outstanding,
            factors=[_factor_out(f) for f in s.factors],
            rationale=s.rationale,
        )
        for position, s in enumerate(scores[offset : offset + limit], start=1)
    ]
    return page, len(scores)


def _draft_out(
    kind: str,
    draft: drafts.Draft,
    *,
    recipients: list[Recipient],
    warnings: list[str],
    currency: str,
    total: Decimal | None,
    documents: list[DocumentFact],
) -> DraftOut:
    return DraftOut.model_validate(
        {
            "kind": kind,
            "subject": draft.subject,
            "body": draft.body,
            "recipients": recipients,
            "warnings": warnings,
            "currency": currency,
            "total": total,
            "documents": documents,
            "drafted_by": draft.drafted_by,
            "reason": draft.reason,
            "offending": list(draft.offending),
            "model": draft.model,
            "sent": False,
        }
    )


def _recipients(name: str, email: str | None, party: str) -> tuple[list[Recipient], list[str]]:
    """The party's address from the ledger, or none and a warning saying so."""
    if email and email.strip():
        return [Recipient(name=name, email=email.strip())], []
    return [], [f"{party} {name} has no e-mail address on file; add one before sending."]


def payment_reminder(
    session: Session, ctx: RequestContext, llm: LLMService, customer_id: int, today: dt.date
) -> DraftOut:
    """A payment reminder draft for the customer's overdue invoices (never sent)."""
    ctx.require("finance.read")
    customer = parties.get_customer(session, ctx, customer_id)
    items = repo.open_items(session, ctx, [customer.id]).get(customer.id, [])
    late = overdue_items(items, today)
    if not late:
        raise NothingOverdue(
            f"Customer {customer.name} has no overdue invoice",
            details={"customer_id": customer.id},
        )
    currencies = {i.currency for i in late}
    currency = currencies.pop() if len(currencies) == 1 else ctx.currency
    facts = drafts.ReminderFacts(
        company_name=repo.company_name(session, ctx),
        customer_name=customer.name,
        customer_email=customer.email,
        currency=currency,
        today=today,
        invoices=late,
        locale=ctx.locale,
    )
    recipients, warnings = _recipients(customer.name, customer.email, "Customer")
    if len({i.currency for i in late}) > 1:
        warnings.append("The overdue invoices are in more than one currency; check the total.")
    return _draft_out(
        "payment_reminder",
        drafts.draft_reminder(llm, ctx.company_slug, facts),
        recipients=recipients,
        warnings=warnings,
        currency=currency,
        total=facts.total,
        documents=[
            DocumentFact(
                number=i.number,
                date=i.issue_date,
                due_date=i.due_date,
                days_late=(today - i.due_date).days,
                amount=i.open_amount,
            )
            for i in late
        ],
    )


def late_lines(order: PurchaseOrder, today: dt.date) -> list[drafts.OutstandingLine]:
    """The order's lines still to come if the order is late at ``today``, else none."""
    if order.status not in OPEN_ORDER_STATUSES:
        return []
    if order.expected_date is None or order.expected_date >= today:
        return []
    return [
        drafts.OutstandingLine(line.description, line.quantity, line.received_quantity)
        for line in order.lines
        if line.received_quantity < line.quantity
    ]


def _order_ref(ref: int | str) -> int | str:
    """An id given as digits is an id; anything else is a number such as PO-2026-0042."""
    if isinstance(ref, str) and ref.strip().isdigit():
        return int(ref.strip())
    return ref


def supplier_follow_up(
    session: Session, ctx: RequestContext, llm: LLMService, ref: int | str, today: dt.date
) -> DraftOut:
    """A follow-up draft to the supplier of a late, not fully received order (never sent)."""
    ctx.require("procurement.read")
    order = repo.get_purchase_order(session, ctx, _order_ref(ref))
    lines = late_lines(order, today)
    if not lines or order.expected_date is None:
        raise PurchaseOrderNotLate(
            f"Purchase order {order.number} is not late: it is {order.status}"
            + (
                f", expected {order.expected_date.isoformat()}"
                if order.expected_date
                else ", with no expected date"
            ),
            details={
                "number": order.number,
                "status": order.status,
                "expected_date": order.expected_date.isoformat() if order.expected_date else None,
            },
        )
    supplier = parties.get_supplier(session, ctx, order.supplier_id)
    facts = drafts.FollowUpFacts(
        company_name=repo.company_name(session, ctx),
        supplier_name=supplier.name,
        supplier_email=supplier.email,
        number=order.number,
        order_date=order.order_date,
        expected_date=order.expected_date,
        today=today,
        currency=order.currency,
        total=order.total,
        lines=lines,
        locale=ctx.locale,
    )
    recipients, warnings = _recipients(supplier.name, supplier.email, "Supplier")
    return _draft_out(
        "supplier_follow_up",
        drafts.draft_follow_up(llm, ctx.company_slug, facts),
        recipients=recipients,
        warnings=warnings,
        currency=order.currency,
        total=order.total,
        documents=[
            DocumentFact(
                number=order.number,
                date=order.order_date,
                due_date=order.expected_date,
                days_late=facts.days_late,
                amount=order.total,
            )
        ],
    )
