"""Item and warehouse shapes: what callers send in and what the API returns."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from companion.erp.parties.schemas import normalize_name
from companion.kit.money import quantize


def _code(value: str) -> str:
    value = value.strip().upper()
    if not value:
        raise ValueError("must not be blank")
    if any(ch.isspace() for ch in value):
        raise ValueError("must not contain spaces")
    return value


def _name(value: str) -> str:
    value = normalize_name(value)
    if not value:
        raise ValueError("name must not be blank")
    return value


Sku = Annotated[str, Field(max_length=64), AfterValidator(_code)]
WarehouseCode = Annotated[str, Field(max_length=32), AfterValidator(_code)]
Name = Annotated[str, Field(max_length=200), AfterValidator(_name)]
Price = Annotated[Decimal, Field(ge=0, max_digits=18, decimal_places=2), AfterValidator(quantize)]
Quantity = Annotated[
    Decimal,
    Field(ge=0, max_digits=18, decimal_places=3),
    AfterValidator(lambda v: quantize(v, 3)),
]
Rate = Annotated[Decimal, Field(ge=0, le=100, decimal_places=2), AfterValidator(quantize)]


class ItemIn(BaseModel):
    """A new product (tracked in stock) or service (``is_tracked=False``)."""

    model_config = ConfigDict(extra="forbid")

    sku: Sku
    name: Name
    uom: Annotated[str, Field(min_length=1, max_length=16)] = "unit"
    unit_price: Price
    unit_cost: Price
    is_tracked: bool = True
    reorder_level: Quantity = Decimal("0.000")
    reorder_qty: Quantity = Decimal("0.000")
    tax_rate: Rate = Decimal("0.00")
    is_active: bool = True


class WarehouseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: WarehouseCode
    name: Name


class ItemOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    sku: str
    name: str
    uom: str
    unit_price: Decimal
    unit_cost: Decimal
    is_tracked: bool
    reorder_level: Decimal
    reorder_qty: Decimal
    tax_rate: Decimal
    is_active: bool
    created_at: dt.datetime


class WarehouseOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    name: str
    is_active: bool
