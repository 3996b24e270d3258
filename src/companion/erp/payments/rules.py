"""Allocation arithmetic as pure functions: oldest-first, and checks of explicit allocations."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from companion.erp.ledger.rules import check_amount
from companion.errors import BusinessRuleViolation
from companion.kit.money import ZERO


@dataclass(frozen=True)
class OpenDocument:
    """What allocation needs to know of an open invoice or bill."""

    id: int
    number: str
    due_date: dt.date
    open_amount: Decimal


def allocate_oldest_first(
    amount: Decimal, documents: Sequence[OpenDocument]
) -> list[tuple[int, Decimal]]:
    """Spread ``amount`` over the documents by due date, then number; the rest stays unallocated."""
    remaining = amount
    result: list[tuple[int, Decimal]] = []
    for doc in sorted(documents, key=lambda d: (d.due_date, d.number, d.id)):
        if remaining <= 0:
            break
        if doc.open_amount <= 0:
            continue
        share = min(remaining, doc.open_amount)
        result.append((doc.id, share))
        remaining -= share
    return result


def check_allocations(
    amount: Decimal,
    requested: Sequence[tuple[int, Decimal]],
    documents: Mapping[int, OpenDocument],
) -> Decimal:
    """Refuse allocations that overpay a document or exceed the payment; return their sum.

    ``documents`` holds the open documents the caller may allocate to; ids outside it
    have been answered (NotFound, wrong party, not open) before this runs.
    """
    seen: set[int] = set()
    total = ZERO
    for invoice_id, raw in requested:
        doc = documents[invoice_id]
        if invoice_id in seen:
            raise BusinessRuleViolation(
                f"{doc.number} is allocated twice; give one allocation per document",
                details={"invoice_id": invoice_id, "number": doc.number},
            )
        seen.add(invoice_id)
        share = check_amount(raw, f"allocation to {doc.number}")
        if share <= 0:
            raise BusinessRuleViolation(
                f"The allocation to {doc.number} must be positive",
                details={"invoice_id": invoice_id, "number": doc.number, "amount": str(share)},
            )
        if share > doc.open_amount:
            raise BusinessRuleViolation(
                f"{share} is more than the {doc.open_amount} still open on {doc.number}",
                details={
                    "invoice_id": invoice_id,
                    "number": doc.number,
                    "requested": str(share),
                    "open_amount": str(doc.open_amount),
                },
            )
        total += share
    if total > amount:
        raise BusinessRuleViolation(
            f"The allocations ({total}) exceed the payment ({amount})",
            details={"allocated": str(total), "amount": str(amount)},
        )
    return total
