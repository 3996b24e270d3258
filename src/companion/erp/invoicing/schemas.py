"""Shapes invoicing gives out, and the filters of its list."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from companion.erp.invoicing.models import InvoiceKind, InvoiceStatus


class InvoiceLineOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    line_no: int
    item_id: int | None
    account_id: int | None
    description: str
    quantity: Decimal
    unit_price: Decimal
    discount_pct: Decimal
    tax_rate: Decimal
    net_amount: Decimal
    tax_amount: Decimal


class InvoiceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: InvoiceKind
    number: str
    customer_id: int | None
    supplier_id: int | None
    sales_order_id: int | None
    purchase_order_id: int | None
    issue_date: dt.date
    due_date: dt.date
    status: InvoiceStatus
    currency: str
    subtotal: Decimal
    discount_total: Decimal
    tax_total: Decimal
    total: Decimal
    amount_paid: Decimal
    open_amount: Decimal
    journal_id: int | None
    supplier_reference: str | None
    notes: str | None
    lines: list[InvoiceLineOut]


class OpenAmountOut(BaseModel):
    """What open invoices (AR) or bills (AP) still owe: posted or partially paid."""

    kind: InvoiceKind
    open_amount: Decimal
    documents: int
    currency: str


class InvoiceFilters(BaseModel):
    """What the invoice list can be narrowed by; every field is optional."""

    kind: InvoiceKind | None = None
    status: InvoiceStatus | None = None
    customer_id: int | None = None
    supplier_id: int | None = None
    from_date: dt.date | None = None
    to_date: dt.date | None = None
    overdue: bool = False
    q: str | None = Field(default=None, max_length=64)
