"""What is owed and when: open invoices and bills grouped by party and by due date.

Open means posted or partially paid (``OPEN_STATUSES``); the open amount is total less
amount paid, as everywhere else.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select, type_coerce
from sqlalchemy.orm import Session

from companion.erp.invoicing.models import OPEN_STATUSES, Invoice, InvoiceKind
from companion.erp.parties.models import Customer
from companion.kit.db import Money
from companion.tenancy.context import RequestContext, scoped

_OPEN = Invoice.total - Invoice.amount_paid


@dataclass(frozen=True)
class PartyDue:
    """A customer's overdue invoices: how much, how many, the oldest due date."""

    party_id: int
    name: str
    amount: Decimal
    documents: int
    oldest_due: dt.date


def overdue_by_customer(session: Session, ctx: RequestContext, today: dt.date) -> list[PartyDue]:
    """Each customer's open invoices due before ``today``, largest amount first."""
    stmt = (
        select(
            Invoice.customer_id,
            Customer.name,
            type_coerce(func.sum(_OPEN), Money()),
            func.count(Invoice.id),
            func.min(Invoice.due_date),
        )
        .join(Customer, Customer.id == Invoice.customer_id)
        .where(
            Invoice.kind == InvoiceKind.AR.value,
            Invoice.status.in_(OPEN_STATUSES),
            Invoice.due_date < today,
        )
        .group_by(Invoice.customer_id, Customer.name)
    )
    stmt = scoped(scoped(stmt, Invoice, ctx), Customer, ctx)
    rows = [
        PartyDue(int(cid or 0), str(name), Decimal(amount or 0), int(n), oldest)
        for cid, name, amount, n, oldest in session.execute(stmt)
    ]
    return sorted(rows, key=lambda r: (-r.amount, r.party_id))


def open_by_due_date(
    session: Session, ctx: RequestContext, kind: InvoiceKind
) -> list[tuple[dt.date, Decimal]]:
    """Open amounts of the company's invoices (AR) or bills (AP) per due date, oldest first."""
    stmt = (
        select(Invoice.due_date, type_coerce(func.sum(_OPEN), Money()))
        .where(Invoice.kind == kind.value, Invoice.status.in_(OPEN_STATUSES))
        .group_by(Invoice.due_date)
        .order_by(Invoice.due_date)
    )
    return [
        (day, Decimal(amount or 0)) for day, amount in session.execute(scoped(stmt, Invoice, ctx))
    ]


def issued_total(
    session: Session, ctx: RequestContext, kind: InvoiceKind, first: dt.date, last: dt.date
) -> Decimal:
    """The total (with tax) of invoices or bills issued between the dates, void excluded."""
    stmt = select(type_coerce(func.sum(Invoice.total), Money())).where(
        Invoice.kind == kind.value,
        Invoice.status.in_((*OPEN_STATUSES, "paid")),
        Invoice.issue_date >= first,
        Invoice.issue_date <= last,
    )
    return Decimal(session.execute(scoped(stmt, Invoice, ctx)).scalar_one() or 0)
