"""Suppliers and what we owe them: AP aging and supplier balances.

Definitions:
- open amount: total - amount_paid of AP bills with status posted or partially_paid.
- AP aging: open amounts per supplier in buckets of days past due at today: current (not
  yet due), 1-30, 31-60, 61-90, 90+.
- supplier balance: open bills less payments to the supplier not yet applied to any bill.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from companion.assistant.queries.openitems import PAYABLES, aging, balances
from companion.assistant.queries.registry import QueryParams, QueryResult, register
from companion.tenancy.context import RequestContext


@register(
    "ap_aging",
    figure="invoices",
    filters={"supplier_id"},
    description="Open payables by days past due",
    title="payables aging",
)
def ap_aging(
    session: Session, ctx: RequestContext, params: QueryParams, today: dt.date
) -> QueryResult:
    """Open AP per supplier in current / 1-30 / 31-60 / 61-90 / 90+ days past due."""
    return aging(session, ctx, params, today, PAYABLES)


@register(
    "supplier_balance",
    figure="invoices",
    filters={"supplier_id", "min_amount", "max_amount", "top_n"},
    description="What we owe suppliers",
)
def supplier_balance(
    session: Session, ctx: RequestContext, params: QueryParams, today: dt.date
) -> QueryResult:
    """Each supplier's open bills less unapplied payments (one supplier if given)."""
    return balances(session, ctx, params, today, PAYABLES)
