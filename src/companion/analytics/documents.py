"""Documents, one per row: invoices (AR), supplier bills (AP), purchase orders, sales orders.

"The largest invoice last month", "invoices for Gulshan Telecom", "POs over 2 lakh from
Penang": a list of documents filtered by party, period, status (or open only) and an amount
threshold, newest first or ranked by amount and cut to the top N. The definitions are the
measures': an invoice's amount is its subtotal (net of tax, as sales), a purchase or sales
order's its total (tax included, as purchase order value); the statuses counted unless one is
asked are the measures' (issued invoices, placed orders). Every table is read through
``scoped()``/``in_company()``, so another company's party answers like a missing one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict
from sqlalchemy import and_, func, select, type_coerce
from sqlalchemy.orm import Session

from companion.analytics.query import MAX_TOP
from companion.analytics.query import Unanswerable as Cant
from companion.erp.invoicing.models import (
    OPEN_STATUSES,
    SALES_STATUSES,
    Invoice,
    InvoiceKind,
    InvoiceStatus,
)
from companion.erp.parties.models import Customer, Supplier
from companion.erp.purchasing.models import OPEN_STATUSES as PO_OPEN
from companion.erp.purchasing.models import PLACED_STATUSES as PO_PLACED
from companion.erp.purchasing.models import POStatus, PurchaseOrder
from companion.erp.sales.models import PLACED_STATUSES as SO_PLACED
from companion.erp.sales.models import SalesOrder, SalesOrderStatus
from companion.kit.db import Money
from companion.tenancy.context import RequestContext, in_company, scoped
from companion.tenancy.figures import figure_permission

DocumentKind = Literal["invoice", "bill", "purchase_order", "sales_order"]
# Rows listed without a top-N; the count and totals still cover every match.
LIST_ROWS = 50


class DocumentQuery(BaseModel):
    """Which documents to list, and how to order and cut them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: DocumentKind
    party: int | None = None  # the customer (invoices, sales orders) or supplier (bills, POs)
    start: dt.date | None = None
    end: dt.date | None = None
    status: str | None = None
    open_only: bool = False
    min_amount: Decimal | None = None
    max_amount: Decimal | None = None
    order: Literal["newest", "largest", "smallest"] = "newest"
    top: int | None = None


@dataclass(frozen=True)
class Kind:
    """How one kind of document is read: its table, party, date, amount and statuses."""

    label: str  # "invoice"
    model: Any
    party_model: Any
    party_key: Any
    date: Any
    amount: Any
    where: tuple[Any, ...]
    statuses: tuple[str, ...]
    open_statuses: tuple[str, ...]
    all_statuses: tuple[str, ...]
    open_amount: Any | None  # what is still owed, for invoices and bills
    figure: str
    definition: str
    party_word: str


_OPEN = Invoice.open_amount
_INVOICE_STATUSES = tuple(s.value for s in InvoiceStatus)
KINDS: dict[str, Kind] = {
    "invoice": Kind(
        "invoice",
        Invoice,
        Customer,
        Invoice.customer_id,
        Invoice.issue_date,
        Invoice.subtotal,
        (Invoice.kind == InvoiceKind.AR.value,),
        SALES_STATUSES,
        OPEN_STATUSES,
        _INVOICE_STATUSES,
        _OPEN,
        "invoices",
        "customer invoices posted, partially paid or paid (drafts and voids excluded), by issue "
        "date; amount = subtotal (net of tax, as sales), open = total - amount paid",
        "customer",
    ),
    "bill": Kind(
        "bill",
        Invoice,
        Supplier,
        Invoice.supplier_id,
        Invoice.issue_date,
        Invoice.subtotal,
        (Invoice.kind == InvoiceKind.AP.value,),
        SALES_STATUSES,
        OPEN_STATUSES,
        _INVOICE_STATUSES,
        _OPEN,
        "invoices",
        "supplier bills posted, partially paid or paid (drafts and voids excluded), by bill "
        "date; amount = subtotal (net of tax, as purchases), open = total - amount paid",
        "supplier",
    ),
    "purchase_order": Kind(
        "purchase order",
        PurchaseOrder,
        Supplier,
        PurchaseOrder.supplier_id,
        PurchaseOrder.order_date,
        PurchaseOrder.total,
        (),
        PO_PLACED,
        PO_OPEN,
        tuple(s.value for s in POStatus),
        None,
        "purchase_orders",
        "purchase orders by order date, drafts, rejected and cancelled orders excluded; "
        "amount = total (tax included, as purchase order value)",
        "supplier",
    ),
    "sales_order": Kind(
        "sales order",
        SalesOrder,
        Customer,
        SalesOrder.customer_id,
        SalesOrder.order_date,
        SalesOrder.total,
        (),
        SO_PLACED,
        (SalesOrderStatus.CONFIRMED.value,),
        tuple(s.value for s in SalesOrderStatus),
        None,
        "sales_orders",
        "customer orders confirmed, delivered or invoiced (drafts and cancelled excluded), by "
        "order date; amount = total (tax included)",
        "customer",
    ),
}


@dataclass(frozen=True)
class DocumentResult:
    """The documents shown, how many matched, and their totals."""

    query: DocumentQuery
    kind: Kind
    columns: list[str]
    rows: list[list[Any]]
    matched: int
    total: Decimal  # the amount over every match, not only the rows shown
    open_total: Decimal | None
    start: dt.date | None
    end: dt.date | None


def validate(query: DocumentQuery) -> Kind:
    """The kind of document, or ``Unanswerable`` saying what is wrong with the question."""
    kind = KINDS[query.kind]
    if query.top is not None and not 1 <= query.top <= MAX_TOP:
        raise Cant(
            f"I can't list the top {query.top:,}: I rank between 1 and {MAX_TOP} at a time",
            details={"top": query.top, "max": MAX_TOP},
        )
    for bound in (query.min_amount, query.max_amount):
        if bound is not None and (bound < 0 or not bound.is_finite()):
            raise Cant(f"An amount to filter {kind.label}s by can't be negative ({bound})")
    if (
        query.min_amount is not None
        and query.max_amount is not None
        and query.min_amount > query.max_amount
    ):
        raise Cant(
            f"No {kind.label} can be over {query.min_amount} and under {query.max_amount} at once"
        )
    if query.status is not None and query.status not in kind.all_statuses:
        raise Cant(
            f"A {kind.label} has no status {query.status!r}",
            details={"statuses": list(kind.all_statuses)},
        )
    if query.start and query.end and query.start > query.end:
        raise Cant("The period ends before it starts")
    return kind


def list_documents(
    session: Session, ctx: RequestContext, query: DocumentQuery, today: dt.date
) -> DocumentResult:
    """Check the permission and list the caller's company's documents as asked."""
    kind = validate(query)
    ctx.require(figure_permission(kind.figure))
    end = min(query.end, today) if query.end is not None else None
    conditions = _conditions(kind, query, end)
    money = Money()
    open_sum = (
        type_coerce(func.coalesce(func.sum(kind.open_amount), 0), money)
        if kind.open_amount is not None
        else None
    )
    totals = scoped(
        select(
            func.count(kind.model.id),
            type_coerce(func.coalesce(func.sum(kind.amount), 0), money),
            *([open_sum] if open_sum is not None else []),
        ).select_from(kind.model),
        kind.model,
        ctx,
    ).where(*conditions)
    counted = session.execute(totals).one()
    party = kind.party_model
    columns = ["number", kind.party_word, "date", "status", "amount"]
    selected: list[Any] = [
        kind.model.number,
        party.name,
        kind.date,
        kind.model.status,
        kind.amount,
    ]
    if kind.open_amount is not None:
        columns.append("open_amount")
        selected.append(type_coerce(kind.open_amount, money))
    if query.order == "newest":
        order = [kind.date.desc(), kind.model.number.desc()]
    else:
        by = kind.amount.desc() if query.order == "largest" else kind.amount.asc()
        order = [by, kind.date.desc(), kind.model.number]
    stmt = (
        scoped(
            select(*selected)
            .select_from(kind.model)
            .outerjoin(party, and_(party.id == kind.party_key, in_company(party, ctx))),
            kind.model,
            ctx,
        )
        .where(*conditions)
        .order_by(*order, kind.model.id)
        .limit(query.top or LIST_ROWS)
    )
    rows = [list(r) for r in session.execute(stmt)]
    return DocumentResult(
        query=query,
        kind=kind,
        columns=columns,
        rows=rows,
        matched=int(counted[0]),
        total=Decimal(counted[1]),
        open_total=Decimal(counted[2]) if open_sum is not None else None,
        start=query.start,
        end=end,
    )


def _conditions(kind: Kind, query: DocumentQuery, end: dt.date | None) -> list[Any]:
    out: list[Any] = list(kind.where)
    if query.status is not None:
        out.append(kind.model.status == query.status)
    else:
        out.append(kind.model.status.in_(kind.open_statuses if query.open_only else kind.statuses))
    if query.open_only and kind.open_amount is not None:
        out.append(kind.open_amount > 0)
    if query.party is not None:
        out.append(kind.party_key == query.party)
    if query.start is not None:
        out.append(kind.date >= query.start)
    if end is not None:
        out.append(kind.date <= end)
    if query.min_amount is not None:
        out.append(kind.amount >= query.min_amount)
    if query.max_amount is not None:
        out.append(kind.amount <= query.max_amount)
    return out
