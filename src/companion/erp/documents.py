"""Lines of commercial documents (sales orders, invoices, bills, purchase orders).

Every document service takes ``DocLineIn`` and resolves it against the item master with
``resolve_lines``: prices default to the item's list price (sales) or cost (purchases),
tax to the item's rate, and amounts come from ``kit.pricing``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from companion.erp.items.models import Item
from companion.errors import BusinessRuleViolation, NotFound
from companion.kit.money import quantize
from companion.kit.pricing import DocumentTotals, LineAmounts, document_totals, line_amounts
from companion.tenancy.context import RequestContext, scoped


class DocLineIn(BaseModel):
    """One line as a caller gives it; omitted prices and tax come from the item."""

    model_config = ConfigDict(extra="forbid")

    item_id: int
    quantity: Decimal = Field(gt=0, max_digits=18, decimal_places=3)
    unit_price: Decimal | None = Field(default=None, ge=0, max_digits=18, decimal_places=2)
    discount_pct: Decimal = Field(default=Decimal("0"), ge=0, le=100)
    tax_rate: Decimal | None = Field(default=None, ge=0, le=100)
    description: str | None = Field(default=None, max_length=300)


@dataclass(frozen=True)
class ResolvedLine:
    line_no: int
    item: Item
    description: str
    quantity: Decimal
    unit_price: Decimal
    discount_pct: Decimal
    tax_rate: Decimal
    amounts: LineAmounts


def resolve_lines(
    session: Session, ctx: RequestContext, lines: list[DocLineIn], *, price: str = "sale"
) -> tuple[list[ResolvedLine], DocumentTotals]:
    """Check the items belong to the caller's company and compute every amount.

    ``price`` picks the default unit price: ``"sale"`` (list price) or ``"cost"``.
    """
    if not lines:
        raise BusinessRuleViolation("A document needs at least one line")
    ids = {line.item_id for line in lines}
    items = {
        i.id: i
        for i in session.execute(scoped(select(Item), Item, ctx).where(Item.id.in_(ids))).scalars()
    }
    resolved: list[ResolvedLine] = []
    for n, line in enumerate(lines, start=1):
        item = items.get(line.item_id)
        if item is None:
            raise NotFound(f"Item {line.item_id} not found", details={"item_id": line.item_id})
        default_price = item.unit_price if price == "sale" else item.unit_cost
        unit_price = line.unit_price if line.unit_price is not None else default_price
        tax_rate = line.tax_rate if line.tax_rate is not None else item.tax_rate
        try:
            amounts = line_amounts(line.quantity, unit_price, line.discount_pct, tax_rate)
        except ValueError as exc:
            raise BusinessRuleViolation(f"Line {n}: {exc}", details={"line": n}) from exc
        resolved.append(
            ResolvedLine(
                line_no=n,
                item=item,
                description=line.description or item.name,
                quantity=line.quantity,
                unit_price=unit_price,
                discount_pct=line.discount_pct,
                tax_rate=tax_rate,
                amounts=amounts,
            )
        )
    return resolved, document_totals(r.amounts for r in resolved)


def refuse_inactive_items(resolved: list[ResolvedLine]) -> None:
    """Orders may not name items that were deactivated."""
    inactive = [r.item.sku for r in resolved if not r.item.is_active]
    if inactive:
        raise BusinessRuleViolation(
            f"Inactive item(s) cannot be ordered: {', '.join(inactive)}",
            details={"skus": inactive},
        )


def order_line_values(ctx: RequestContext, line: ResolvedLine) -> dict[str, Any]:
    """The columns a sales or purchase order line stores for a resolved line."""
    return {
        "company_id": ctx.company_id,
        "line_no": line.line_no,
        "item_id": line.item.id,
        "description": line.description,
        "quantity": quantize(line.quantity, 3),
        "unit_price": line.unit_price,
        "discount_pct": quantize(line.discount_pct),
        "tax_rate": quantize(line.tax_rate),
        "net_amount": line.amounts.net,
        "tax_amount": line.amounts.tax,
    }


def totals_values(totals: DocumentTotals) -> dict[str, Decimal]:
    """A document header's amount columns."""
    return {
        "subtotal": totals.subtotal,
        "discount_total": totals.discount_total,
        "tax_total": totals.tax_total,
        "total": totals.total,
    }


def clean_notes(notes: str | None) -> str | None:
    """Trimmed notes, None when blank; over 1000 characters is refused."""
    if notes is None or not notes.strip():
        return None
    if len(notes.strip()) > 1000:
        raise BusinessRuleViolation("Notes are longer than 1000 characters")
    return notes.strip()
