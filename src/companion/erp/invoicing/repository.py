"""All SQL of invoicing: invoices and bills, and the parties and orders they refer to."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, selectinload

from companion.erp.invoicing.models import (
    SALES_STATUSES,
    Invoice,
    InvoiceKind,
    SalesMonth,
    is_open,
    is_overdue,
)
from companion.erp.invoicing.schemas import InvoiceFilters
from companion.erp.parties.models import Customer, Supplier
from companion.erp.purchasing.models import PurchaseOrder
from companion.erp.sales.models import SalesOrder
from companion.errors import NotFound
from companion.kit.db import add_to_totals
from companion.tenancy.context import RequestContext, scoped


def get_customer(session: Session, ctx: RequestContext, customer_id: int) -> Customer:
    """A customer of the caller's company (NotFound otherwise)."""
    stmt = scoped(select(Customer), Customer, ctx).where(Customer.id == customer_id)
    customer = session.execute(stmt).scalar_one_or_none()
    if customer is None:
        raise NotFound(f"Customer {customer_id} not found", details={"customer_id": customer_id})
    return customer


def get_supplier(session: Session, ctx: RequestContext, supplier_id: int) -> Supplier:
    """A supplier of the caller's company (NotFound otherwise)."""
    stmt = scoped(select(Supplier), Supplier, ctx).where(Supplier.id == supplier_id)
    supplier = session.execute(stmt).scalar_one_or_none()
    if supplier is None:
        raise NotFound(f"Supplier {supplier_id} not found", details={"supplier_id": supplier_id})
    return supplier


def get_sales_order(session: Session, ctx: RequestContext, order_id: int) -> SalesOrder:
    """A sales order of the caller's company (NotFound otherwise)."""
    stmt = scoped(select(SalesOrder), SalesOrder, ctx).where(SalesOrder.id == order_id)
    order = session.execute(stmt).scalar_one_or_none()
    if order is None:
        raise NotFound(f"Sales order {order_id} not found", details={"sales_order_id": order_id})
    return order


def get_purchase_order(session: Session, ctx: RequestContext, order_id: int) -> PurchaseOrder:
    """A purchase order of the caller's company (NotFound otherwise)."""
    stmt = scoped(select(PurchaseOrder), PurchaseOrder, ctx).where(PurchaseOrder.id == order_id)
    order = session.execute(stmt).scalar_one_or_none()
    if order is None:
        raise NotFound(
            f"Purchase order {order_id} not found", details={"purchase_order_id": order_id}
        )
    return order


def _invoices(ctx: RequestContext, *, for_update: bool) -> Select[Invoice]:
    stmt = scoped(select(Invoice), Invoice, ctx).options(selectinload(Invoice.lines))
    # Row locks make concurrent payments against one invoice queue up (PostgreSQL).
    return stmt.with_for_update() if for_update else stmt


def get_invoice(
    session: Session, ctx: RequestContext, invoice_id: int, *, for_update: bool = False
) -> Invoice:
    """An invoice or bill of the caller's company (NotFound otherwise)."""
    stmt = _invoices(ctx, for_update=for_update).where(Invoice.id == invoice_id)
    invoice = session.execute(stmt).scalar_one_or_none()
    if invoice is None:
        raise NotFound(f"Invoice {invoice_id} not found", details={"invoice_id": invoice_id})
    return invoice


def get_invoice_by_number(session: Session, ctx: RequestContext, number: str) -> Invoice:
    """An invoice or bill by its number, e.g. ``INV-2026-0107`` (NotFound otherwise)."""
    wanted = number.strip().upper()
    stmt = _invoices(ctx, for_update=False).where(Invoice.number == wanted)
    invoice = session.execute(stmt).scalar_one_or_none()
    if invoice is None:
        raise NotFound(f"Invoice {wanted} not found", details={"number": wanted})
    return invoice


def invoices_by_ids(
    session: Session, ctx: RequestContext, ids: Iterable[int], *, for_update: bool = False
) -> dict[int, Invoice]:
    """The caller's invoices among ``ids``; another company's are simply absent."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    stmt = _invoices(ctx, for_update=for_update).where(Invoice.id.in_(wanted))
    return {i.id: i for i in session.execute(stmt.order_by(Invoice.id)).scalars()}


def open_invoices(
    session: Session,
    ctx: RequestContext,
    *,
    kind: InvoiceKind,
    party_id: int,
    for_update: bool = False,
) -> list[Invoice]:
    """A party's posted, not fully paid documents of ``kind``, oldest due first."""
    party_col = Invoice.customer_id if kind == InvoiceKind.AR else Invoice.supplier_id
    stmt = (
        _invoices(ctx, for_update=for_update)
        .where(is_open(kind), party_col == party_id)
        .order_by(Invoice.due_date, Invoice.number, Invoice.id)
    )
    return list(session.execute(stmt).scalars())


def list_invoices(
    session: Session,
    ctx: RequestContext,
    filters: InvoiceFilters,
    *,
    today: dt.date,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Invoice], int]:
    """A page of the caller's invoices and bills, newest first, and how many match."""
    stmt = scoped(select(Invoice), Invoice, ctx)
    if filters.kind is not None:
        stmt = stmt.where(Invoice.kind == filters.kind.value)
    if filters.status is not None:
        stmt = stmt.where(Invoice.status == filters.status.value)
    if filters.customer_id is not None:
        stmt = stmt.where(Invoice.customer_id == filters.customer_id)
    if filters.supplier_id is not None:
        stmt = stmt.where(Invoice.supplier_id == filters.supplier_id)
    if filters.from_date is not None:
        stmt = stmt.where(Invoice.issue_date >= filters.from_date)
    if filters.to_date is not None:
        stmt = stmt.where(Invoice.issue_date <= filters.to_date)
    if filters.overdue:
        stmt = stmt.where(is_overdue(today))
    if filters.q and filters.q.strip():
        stmt = stmt.where(Invoice.number.icontains(filters.q.strip(), autoescape=True))
    total = session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
    page = (
        stmt.order_by(Invoice.issue_date.desc(), Invoice.id.desc())
        .options(selectinload(Invoice.lines))
        .limit(limit)
        .offset(offset)
    )
    return list(session.execute(page).scalars()), int(total)


def add_sales_month(session: Session, invoice: Invoice, sign: int) -> None:
    """Add (``sign`` 1, on posting) or take off (-1, on voiding) a customer invoice's sales
    in its customer's month of issue; anything but a sale (``is_sale``) changes nothing."""
    if invoice.kind != InvoiceKind.AR.value or invoice.status not in SALES_STATUSES:
        return
    row = {
        "company_id": invoice.company_id,
        "customer_id": invoice.customer_id,
        "month": invoice.issue_date.replace(day=1),
        "amount": sign * invoice.subtotal,
        "tax": sign * invoice.tax_total,
        "invoices": sign,
    }
    keys = ("company_id", "month", "customer_id")
    add_to_totals(session, SalesMonth, [row], keys, ("amount", "tax", "invoices"))
