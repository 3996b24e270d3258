"""Purchase order and approval shapes: what callers send in and what the API returns."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from companion.erp.purchasing.models import ApprovalTask
from companion.kit.money import quantize


class ApprovalLevelIn(BaseModel):
    """One approval level: orders whose total reaches ``min_amount`` need its decision."""

    model_config = ConfigDict(extra="forbid")

    level: Annotated[int, Field(ge=1, le=20)]
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    min_amount: Annotated[
        Decimal, Field(ge=0, max_digits=18, decimal_places=2), AfterValidator(quantize)
    ]
    role: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32)]
    user_id: int | None = None


class ApprovalLevelOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    level: int
    name: str
    min_amount: Decimal
    role: str
    user_id: int | None


class PurchaseOrderLineOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    line_no: int
    item_id: int
    description: str
    quantity: Decimal
    received_quantity: Decimal
    billed_quantity: Decimal
    unit_price: Decimal
    discount_pct: Decimal
    tax_rate: Decimal
    net_amount: Decimal
    tax_amount: Decimal


class ApprovalTaskOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    order_id: int
    level: int
    assigned_role: str
    assigned_user_id: int | None
    status: str
    decided_by_id: int | None
    decided_at: dt.datetime | None
    comment: str | None


class PurchaseOrderSummaryOut(BaseModel):
    """An order without its lines and tasks (lists)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    number: str
    supplier_id: int
    warehouse_id: int | None
    order_date: dt.date
    expected_date: dt.date | None
    status: str
    currency: str
    subtotal: Decimal
    discount_total: Decimal
    tax_total: Decimal
    total: Decimal
    notes: str | None
    cancel_reason: str | None
    created_at: dt.datetime


class PurchaseOrderOut(PurchaseOrderSummaryOut):
    """An order with its lines and approval tasks."""

    lines: list[PurchaseOrderLineOut]
    tasks: list[ApprovalTaskOut]


class PendingApprovalOut(ApprovalTaskOut):
    """A task the caller can decide now, with what it is about."""

    order_number: str
    supplier_id: int
    order_date: dt.date
    total: Decimal
    currency: str

    @classmethod
    def of(cls, task: ApprovalTask) -> PendingApprovalOut:
        """The task and the key facts of its order."""
        order = task.order
        return cls(
            **ApprovalTaskOut.model_validate(task).model_dump(),
            order_number=order.number,
            supplier_id=order.supplier_id,
            order_date=order.order_date,
            total=order.total,
            currency=order.currency,
        )
