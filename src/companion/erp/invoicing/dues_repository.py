"""What is owed and when: open invoices and bills grouped by party and by due date.

Open, overdue and the open amount are ``erp.invoicing.models``' (``is_open``, ``is_overdue``,
``Invoice.open_amount``), as everywhere else.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select, type_coerce
from sqlalchemy.orm import Session

from companion.erp.invoicing.models import (
    ISSUED_STATUSES,
    Invoice,
    InvoiceKind,
    is_open,
    is_overdue,
)
from companion.erp.parties.models import Customer
from companion.kit.db import Money
from companion.tenancy.context import RequestContext, scoped


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
            type_coerce(func.sum(Invoice.open_amount), Money()),
            func.count(Invoice.id),
            func.min(Invoice.due_date),
        )
        .join(Customer, Customer.id == Invoice.customer_id)
        .where(is_overdue(today, InvoiceKind.AR))
        .group_by(Invoice.customer_id, Customer.name)
    )
    stmt = scoped(scoped(stmt, Invoice, ctx), Customer, ctx)
    rows = [
        PartyDue(int(cid or 0), str(name), Decimal(amount or 0), int(n), oldest)
        for cid, name, amount, n, oldest in session.execute(stmt)
    ]
    return sorted(rows, key=lambda r: (-r.amount, r.party_id))


def open_total(session: Session, ctx: RequestContext, kind: InvoiceKind) -> tuple[Decimal, int]:
    """What the company's open invoices (AR) or bills (AP) still owe, and how many there are."""
    stmt = select(
        type_coerce(func.coalesce(func.sum(Invoice.open_amount), 0), Money()),
        func.count(Invoice.id),
    ).where(is_open(kind))
    amount, count = session.execute(scoped(stmt, Invoice, ctx)).one()
    return Decimal(amount), int(count)


def open_by_due_date(
    session: Session, ctx: RequestContext, kind: InvoiceKind
) -> list[tuple[dt.date, Decimal]]:
    """Open amounts of the company's invoices (AR) or bills (AP) per due date, oldest first."""
    stmt = (
        select(Invoice.due_date, type_coerce(func.sum(Invoice.open_amount), Money()))
        .where(is_open(kind))
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
        Invoice.status.in_(ISSUED_STATUSES),
        Invoice.issue_date >= first,
        Invoice.issue_date <= last,
    )
    return Decimal(session.execute(scoped(stmt, Invoice, ctx)).scalar_one() or 0)
