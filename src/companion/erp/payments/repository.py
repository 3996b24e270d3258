"""All SQL of payments: receipts and supplier payments with their allocations."""

from __future__ import annotations

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, selectinload

from companion.erp.payments.models import Payment, PaymentAllocation
from companion.erp.payments.schemas import PaymentFilters
from companion.errors import NotFound
from companion.tenancy.context import RequestContext, scoped


def _payments(ctx: RequestContext) -> Select[Payment]:
    return scoped(select(Payment), Payment, ctx).options(
        selectinload(Payment.allocations).selectinload(PaymentAllocation.invoice)
    )


def get_payment(
    session: Session, ctx: RequestContext, payment_id: int, *, for_update: bool = False
) -> Payment:
    """A payment of the caller's company with its allocations (NotFound otherwise)."""
    stmt = _payments(ctx).where(Payment.id == payment_id)
    if for_update:
        stmt = stmt.with_for_update()
    payment = session.execute(stmt).scalar_one_or_none()
    if payment is None:
        raise NotFound(f"Payment {payment_id} not found", details={"payment_id": payment_id})
    return payment


def list_payments(
    session: Session,
    ctx: RequestContext,
    filters: PaymentFilters,
    *,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Payment], int]:
    """A page of the caller's payments, newest first, and how many match in all."""
    stmt = scoped(select(Payment), Payment, ctx)
    if filters.kind is not None:
        stmt = stmt.where(Payment.kind == filters.kind.value)
    if filters.status is not None:
        stmt = stmt.where(Payment.status == filters.status.value)
    if filters.customer_id is not None:
        stmt = stmt.where(Payment.customer_id == filters.customer_id)
    if filters.supplier_id is not None:
        stmt = stmt.where(Payment.supplier_id == filters.supplier_id)
    if filters.bank_account_id is not None:
        stmt = stmt.where(Payment.bank_account_id == filters.bank_account_id)
    if filters.from_date is not None:
        stmt = stmt.where(Payment.payment_date >= filters.from_date)
    if filters.to_date is not None:
        stmt = stmt.where(Payment.payment_date <= filters.to_date)
    if filters.q and filters.q.strip():
        stmt = stmt.where(Payment.number.icontains(filters.q.strip(), autoescape=True))
    total = session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
    page = (
        stmt.order_by(Payment.payment_date.desc(), Payment.id.desc())
        .options(selectinload(Payment.allocations).selectinload(PaymentAllocation.invoice))
        .limit(limit)
        .offset(offset)
    )
    return list(session.execute(page).scalars()), int(total)
