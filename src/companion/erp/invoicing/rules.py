"""Invoice rules as pure functions: payment status and the voucher an invoice posts."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from companion.erp.invoicing.models import InvoiceKind, InvoiceStatus
from companion.errors import BusinessRuleViolation
from companion.kit.money import ZERO


@dataclass(frozen=True)
class PostingLine:
    """One line of the voucher an invoice or bill posts."""

    account_id: int
    debit: Decimal
    credit: Decimal
    is_party_line: bool = False  # the receivable/payable line, which names the customer/supplier


def payment_status(total: Decimal, amount_paid: Decimal) -> InvoiceStatus:
    """Posted, partially paid or paid, from what has been paid of ``total``."""
    if amount_paid < 0 or amount_paid > total:
        raise BusinessRuleViolation(
            f"Paid {amount_paid} is outside 0..{total}",
            details={"total": str(total), "amount_paid": str(amount_paid)},
        )
    if amount_paid == 0:
        return InvoiceStatus.POSTED
    if amount_paid == total:
        return InvoiceStatus.PAID
    return InvoiceStatus.PARTIALLY_PAID


def net_by_account(lines: Iterable[tuple[int, Decimal]]) -> dict[int, Decimal]:
    """Sum line net amounts per GL account, in the order the accounts first appear."""
    totals: dict[int, Decimal] = {}
    for account_id, net in lines:
        totals[account_id] = totals.get(account_id, ZERO) + net
    return totals


def invoice_posting(
    kind: InvoiceKind,
    *,
    party_account_id: int,
    tax_account_id: int,
    nets: Mapping[int, Decimal],
    tax: Decimal,
) -> list[PostingLine]:
    """The balanced voucher of an invoice (AR) or a bill (AP).

    AR: Dr receivable (total) / Cr revenue (net) / Cr output tax.
    AP: Dr expense or inventory (net) / Dr input tax / Cr payable (total).
    """
    total = sum(nets.values(), ZERO) + tax
    if total <= 0:
        raise BusinessRuleViolation("There is nothing to post: the document's total is zero")
    lines: list[PostingLine] = []
    if kind == InvoiceKind.AR:
        lines.append(PostingLine(party_account_id, total, ZERO, is_party_line=True))
        lines += [PostingLine(a, ZERO, net) for a, net in nets.items() if net > 0]
        if tax > 0:
            lines.append(PostingLine(tax_account_id, ZERO, tax))
    else:
        lines += [PostingLine(a, net, ZERO) for a, net in nets.items() if net > 0]
        if tax > 0:
            lines.append(PostingLine(tax_account_id, tax, ZERO))
        lines.append(PostingLine(party_account_id, ZERO, total, is_party_line=True))
    return lines
