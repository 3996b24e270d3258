"""Sales order shapes the API and the assistant's queries return."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pydantic import BaseModel, ConfigDict


class SalesOrderLineOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    line_no: int
    item_id: int
    description: str
    quantity: Decimal
    unit_price: Decimal
    discount_pct: Decimal
    tax_rate: Decimal
    net_amount: Decimal
    tax_amount: Decimal


class SalesOrderSummaryOut(BaseModel):
    """An order without its lines (lists)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    number: str
    customer_id: int
    warehouse_id: int | None
    order_date: dt.date
    status: str
    currency: str
    subtotal: Decimal
    discount_total: Decimal
    tax_total: Decimal
    total: Decimal
    notes: str | None
    cancel_reason: str | None
    created_at: dt.datetime


class SalesOrderOut(SalesOrderSummaryOut):
    """An order with its lines."""

    lines: list[SalesOrderLineOut]
