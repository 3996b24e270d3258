"""Which permission reads which figure: the one table chat and REST both take it from.

A figure is a kind of business data (bank balances, single invoices, sales totals ...).
Each data query of the assistant declares the figure it reads (``queries.registry``) and
each REST read route declares the figure it serves (``web.deps.require_figure``); both get
the permission from here, so a role sees the same figures whichever way it asks.

The rule for sales: ``sales.read`` sees sales *totals* (net sales by month, customer or item,
and the customer ranking), computed from posted customer invoices but never showing one;
single invoices, their open amounts, ageing and balances are ``finance.read``.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

from companion.tenancy.permissions import PERMISSIONS


@dataclass(frozen=True)
class Figure:
    """A kind of business data and the permission that reads it."""

    permission: str
    meaning: str


FIGURES: MappingProxyType[str, Figure] = MappingProxyType(
    {
        "ledger": Figure(
            "finance.read",
            "Accounts, bank balances, journal vouchers, cash flow, trial balance, profit and loss",
        ),
        "invoices": Figure(
            "finance.read",
            "Single invoices and bills, open amounts, overdue lists, ageing, customer and "
            "supplier balances",
        ),
        "payments": Figure("finance.read", "Receipts and payments"),
        "dashboard": Figure(
            "finance.read",
            "Headline figures: cash, overdue receivables, bills due (its sales and "
            "purchase-order lines only with their own permissions)",
        ),
        "sales_totals": Figure(
            "sales.read",
            "Net sales by month, customer or item and the customer ranking: totals of posted "
            "customer invoices, never a single invoice",
        ),
        "customers": Figure("sales.read", "Customers and their terms"),
        "sales_orders": Figure("sales.read", "Sales orders"),
        "suppliers": Figure("procurement.read", "Suppliers"),
        "purchase_orders": Figure("procurement.read", "Purchase orders and pending approvals"),
        "stock": Figure(
            "inventory.read", "Items, warehouses, stock levels, reorder needs, value at cost"
        ),
    }
)

for _name, _figure in FIGURES.items():
    if _figure.permission not in PERMISSIONS:  # pragma: no cover - a typo fails at import
        raise ValueError(f"figure {_name!r}: unknown permission {_figure.permission!r}")


def figure_permission(figure: str) -> str:
    """The permission that reads ``figure``; an unknown figure raises."""
    if figure not in FIGURES:
        raise ValueError(f"unknown figure {figure!r}")
    return FIGURES[figure].permission
