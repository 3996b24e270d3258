"""All SQL of outreach: customers' open and settled invoices, late purchase orders.

Every read is scoped to the caller's company; another company's record is ``NotFound``,
exactly like a missing one.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from companion.erp.invoicing.models import OPEN_STATUSES, Invoice, InvoiceKind, InvoiceStatus
from companion.erp.parties.models import Customer
from companion.erp.payments.models import Payment, PaymentAllocation, PaymentStatus
from companion.erp.purchasing.models import PurchaseOrder
from companion.errors import NotFound
from companion.outreach.scoring import (
    HISTORY_DAYS,
    CustomerFacts,
    OpenItem,
    SettledItem,
    overdue_total,
)
from companion.tenancy.context import RequestContext, scoped
from companion.tenancy.models import Company

ZERO = Decimal(0)


def company_name(session: Session, ctx: RequestContext) -> str:
    """The name of the caller's company (signs the drafts)."""
    name = session.execute(
        select(Company.name).where(Company.id == ctx.company_id)
    ).scalar_one_or_none()
    return name or ctx.company_slug


def get_purchase_order(session: Session, ctx: RequestContext, ref: int | str) -> PurchaseOrder:
    """A purchase order with its lines, by id or number (``PO-2026-0042``)."""
    stmt = scoped(select(PurchaseOrder), PurchaseOrder, ctx).options(
        selectinload(PurchaseOrder.lines)
    )
    if isinstance(ref, int):
        stmt = stmt.where(PurchaseOrder.id == ref)
    else:
        stmt = stmt.where(PurchaseOrder.number == ref.strip().upper())
    order = session.execute(stmt).scalar_one_or_none()
    if order is None:
        raise NotFound(f"Purchase order {ref} not found", details={"purchase_order": ref})
    return order


def open_items(
    session: Session, ctx: RequestContext, customer_ids: Sequence[int] | None = None
) -> dict[int, list[OpenItem]]:
    """Posted, not fully paid AR invoices per customer, oldest due first."""
    stmt = scoped(select(Invoice), Invoice, ctx).where(
        Invoice.kind == InvoiceKind.AR.value, Invoice.status.in_(OPEN_STATUSES)
    )
    if customer_ids is not None:
        stmt = stmt.where(Invoice.customer_id.in_(list(customer_ids)))
    stmt = stmt.order_by(Invoice.customer_id, Invoice.due_date, Invoice.number, Invoice.id)
    found: dict[int, list[OpenItem]] = defaultdict(list)
    for invoice in session.execute(stmt).scalars():
        if invoice.customer_id is None:  # pragma: no cover - the AR check constraint
            continue
        found[invoice.customer_id].append(
            OpenItem(
                number=invoice.number,
                issue_date=invoice.issue_date,
                due_date=invoice.due_date,
                open_amount=invoice.open_amount,
                currency=invoice.currency,
            )
        )
    return dict(found)


def settled_items(
    session: Session,
    ctx: RequestContext,
    today: dt.date,
    customer_ids: Sequence[int] | None = None,
) -> dict[int, list[SettledItem]]:
    """AR invoices paid in full within the history window, with the date the last payment came."""
    since = today - dt.timedelta(days=HISTORY_DAYS)
    settled_on = func.max(Payment.payment_date)
    stmt = (
        select(Invoice.customer_id, Invoice.number, Invoice.due_date, settled_on)
        .join(PaymentAllocation, PaymentAllocation.invoice_id == Invoice.id)
        .join(Payment, Payment.id == PaymentAllocation.payment_id)
        .where(
            Invoice.kind == InvoiceKind.AR.value,
            Invoice.status == InvoiceStatus.PAID.value,
            Payment.status == PaymentStatus.POSTED.value,
        )
    )
    stmt = scoped(scoped(stmt, Invoice, ctx), Payment, ctx)
    if customer_ids is not None:
        stmt = stmt.where(Invoice.customer_id.in_(list(customer_ids)))
    stmt = (
        stmt.group_by(Invoice.id, Invoice.customer_id, Invoice.number, Invoice.due_date)
        .having(settled_on > since, settled_on <= today)
        .order_by(Invoice.customer_id, Invoice.number)
    )
    found: dict[int, list[SettledItem]] = defaultdict(list)
    for customer_id, number, due_date, last in session.execute(stmt):
        if customer_id is None:  # pragma: no cover - the AR check constraint
            continue
        found[customer_id].append(SettledItem(number=number, due_date=due_date, settled_on=last))
    return dict(found)


def customer_facts(
    session: Session, ctx: RequestContext, customers: Sequence[Customer], today: dt.date
) -> list[CustomerFacts]:
    """Scoring facts of ``customers`` (the caller's), in the order given."""
    ids = [c.id for c in customers]
    opened = open_items(session, ctx, ids)
    settled = settled_items(session, ctx, today, ids)
    return [
        CustomerFacts(
            customer_id=c.id,
            name=c.name,
            currency=ctx.currency,
            credit_limit=c.credit_limit,
            open_items=tuple(opened.get(c.id, ())),
            settled_items=tuple(settled.get(c.id, ())),
        )
        for c in customers
    ]


def largest_overdue(session: Session, ctx: RequestContext, today: dt.date) -> Decimal:
    """The largest amount past due that any one customer of the company owes."""
    # Summed in Python: SQLite has no decimal type, and the figure must be exact.
    totals = [overdue_total(items, today) for items in open_items(session, ctx).values()]
    return max(totals, default=ZERO)


def customers_with_open_items(session: Session, ctx: RequestContext) -> list[Customer]:
    """The company's customers who owe anything on a posted invoice, by name."""
    owing = scoped(select(Invoice.customer_id), Invoice, ctx).where(
        Invoice.kind == InvoiceKind.AR.value, Invoice.status.in_(OPEN_STATUSES)
    )
    stmt = (
        scoped(select(Customer), Customer, ctx)
        .where(Customer.id.in_(owing))
        .order_by(Customer.name, Customer.id)
    )
    return list(session.execute(stmt).scalars())
