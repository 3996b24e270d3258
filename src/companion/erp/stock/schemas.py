"""Stock shapes the API and the assistant's queries return."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pydantic import BaseModel, ConfigDict


class StockLevelOut(BaseModel):
    """On-hand quantity of one item in one warehouse."""

    item_id: int
    sku: str
    item_name: str
    warehouse_id: int
    warehouse_code: str
    quantity: Decimal
    reorder_level: Decimal


class ReorderRow(BaseModel):
    """An item below its reorder level in one warehouse, and how much to order."""

    item_id: int
    sku: str
    item_name: str
    warehouse_id: int
    warehouse_code: str
    quantity: Decimal
    reorder_level: Decimal
    reorder_qty: Decimal
    shortfall: Decimal  # reorder_level - quantity


class ValuationRow(BaseModel):
    """Stock value of one item in one warehouse at the item's unit cost."""

    item_id: int
    sku: str
    warehouse_id: int
    warehouse_code: str
    quantity: Decimal
    unit_cost: Decimal
    value: Decimal


class ValuationOut(BaseModel):
    """Stock on hand at cost, per item and warehouse, and the total value."""

    rows: list[ValuationRow]
    total: Decimal
    currency: str


class StockMoveOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    move_type: str
    item_id: int
    from_warehouse_id: int | None
    to_warehouse_id: int | None
    quantity: Decimal
    unit_cost: Decimal
    move_date: dt.date
    reference: str | None
    reason: str | None
