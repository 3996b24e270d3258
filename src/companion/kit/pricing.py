"""Document line arithmetic shared by sales orders, invoices, bills and purchase orders."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from companion.kit.money import ZERO, money, percent_of


@dataclass(frozen=True)
class LineAmounts:
    gross: Decimal  # quantity x unit price
    discount: Decimal
    net: Decimal  # gross - discount, the taxable base
    tax: Decimal


@dataclass(frozen=True)
class DocumentTotals:
    subtotal: Decimal  # sum of net amounts
    discount_total: Decimal
    tax_total: Decimal
    total: Decimal  # subtotal + tax


def line_amounts(
    quantity: Decimal, unit_price: Decimal, discount_pct: Decimal, tax_rate: Decimal
) -> LineAmounts:
    """Each step rounded to cents, half up, as a printed invoice would show it."""
    if quantity <= 0:
        raise ValueError("quantity must be positive")
    if unit_price < 0:
        raise ValueError("unit price cannot be negative")
    if not Decimal(0) <= discount_pct <= Decimal(100):
        raise ValueError("discount must be between 0 and 100 percent")
    if tax_rate < 0:
        raise ValueError("tax rate cannot be negative")
    gross = money(quantity * unit_price)
    discount = percent_of(gross, discount_pct)
    net = gross - discount
    return LineAmounts(gross=gross, discount=discount, net=net, tax=percent_of(net, tax_rate))


def document_totals(lines: Iterable[LineAmounts]) -> DocumentTotals:
    """Totals of a document from its lines."""
    subtotal = discount = tax = ZERO
    for line in lines:
        subtotal += line.net
        discount += line.discount
        tax += line.tax
    return DocumentTotals(subtotal, discount, tax, subtotal + tax)
