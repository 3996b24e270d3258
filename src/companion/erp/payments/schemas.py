"""Shapes payments take in and give out, and the filters of their list."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from companion.erp.payments.models import Payment, PaymentKind, PaymentStatus


class AllocationIn(BaseModel):
    """Apply ``amount`` of a payment to one invoice (receipt) or bill (payment)."""

    model_config = ConfigDict(extra="forbid")

    invoice_id: int
    amount: Decimal


class AllocationOut(BaseModel):
    invoice_id: int
    invoice_number: str
    amount: Decimal


class PaymentOut(BaseModel):
    id: int
    kind: PaymentKind
    number: str
    customer_id: int | None
    supplier_id: int | None
    bank_account_id: int
    payment_date: dt.date
    amount: Decimal
    currency: str
    status: PaymentStatus
    reference: str | None
    journal_id: int | None
    allocated: Decimal
    unallocated: Decimal
    allocations: list[AllocationOut]

    @classmethod
    def of(cls, payment: Payment) -> PaymentOut:
        """A payment with its allocations, each naming its document."""
        allocations = [
            AllocationOut(invoice_id=a.invoice_id, invoice_number=a.invoice.number, amount=a.amount)
            for a in sorted(payment.allocations, key=lambda a: a.id)
        ]
        return cls(
            id=payment.id,
            kind=PaymentKind(payment.kind),
            number=payment.number,
            customer_id=payment.customer_id,
            supplier_id=payment.supplier_id,
            bank_account_id=payment.bank_account_id,
            payment_date=payment.payment_date,
            amount=payment.amount,
            currency=payment.currency,
            status=PaymentStatus(payment.status),
            reference=payment.reference,
            journal_id=payment.journal_id,
            allocated=payment.allocated,
            unallocated=payment.amount - payment.allocated,
            allocations=allocations,
        )


class PaymentFilters(BaseModel):
    """What the payment list can be narrowed by; every field is optional."""

    kind: PaymentKind | None = None
    status: PaymentStatus | None = None
    customer_id: int | None = None
    supplier_id: int | None = None
    bank_account_id: int | None = None
    from_date: dt.date | None = None
    to_date: dt.date | None = None
    q: str | None = Field(default=None, max_length=64)
