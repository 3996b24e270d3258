from decimal import Decimal

import pytest

from companion.erp.invoicing.models import InvoiceKind, InvoiceStatus
from companion.erp.invoicing.rules import (
    PostingLine,
    invoice_posting,
    net_by_account,
    payment_status,
)
from companion.errors import BusinessRuleViolation

D = Decimal
Z = D("0")
RECEIVABLE, PAYABLE, REVENUE, INVENTORY, EXPENSE, TAX = 1, 2, 3, 4, 5, 6


@pytest.mark.parametrize(
    ("paid", "status"),
    [
        (D("0"), InvoiceStatus.POSTED),
        (D("0.01"), InvoiceStatus.PARTIALLY_PAID),
        (D("99.99"), InvoiceStatus.PARTIALLY_PAID),
        (D("100.00"), InvoiceStatus.PAID),
    ],
)
def test_payment_status_follows_the_amount_paid(paid: Decimal, status: InvoiceStatus) -> None:
    assert payment_status(D("100.00"), paid) is status


@pytest.mark.parametrize("paid", [D("-0.01"), D("100.01")])
def test_payment_status_refuses_a_paid_amount_outside_the_total(paid: Decimal) -> None:
    with pytest.raises(BusinessRuleViolation, match="outside"):
        payment_status(D("100.00"), paid)


def test_net_by_account_sums_per_account_in_first_seen_order() -> None:
    nets = net_by_account([(INVENTORY, D("10")), (EXPENSE, D("5")), (INVENTORY, D("2.50"))])
    assert nets == {INVENTORY: D("12.50"), EXPENSE: D("5")}
    assert list(nets) == [INVENTORY, EXPENSE]


def _balanced(lines: list[PostingLine]) -> bool:
    return sum(p.debit for p in lines) == sum(p.credit for p in lines)


def test_an_ar_invoice_debits_receivable_and_credits_revenue_and_output_tax() -> None:
    lines = invoice_posting(
        InvoiceKind.AR,
        party_account_id=RECEIVABLE,
        tax_account_id=TAX,
        nets={REVENUE: D("200.00")},
        tax=D("20.00"),
    )
    assert lines == [
        PostingLine(RECEIVABLE, D("220.00"), Z, is_party_line=True),
        PostingLine(REVENUE, Z, D("200.00")),
        PostingLine(TAX, Z, D("20.00")),
    ]
    assert _balanced(lines)


def test_an_ap_bill_splits_inventory_and_expense_and_credits_payable() -> None:
    lines = invoice_posting(
        InvoiceKind.AP,
        party_account_id=PAYABLE,
        tax_account_id=TAX,
        nets={INVENTORY: D("120.00"), EXPENSE: D("20.00")},
        tax=D("12.00"),
    )
    assert lines == [
        PostingLine(INVENTORY, D("120.00"), Z),
        PostingLine(EXPENSE, D("20.00"), Z),
        PostingLine(TAX, D("12.00"), Z),
        PostingLine(PAYABLE, Z, D("152.00"), is_party_line=True),
    ]
    assert _balanced(lines)


def test_untaxed_documents_have_no_tax_line_and_free_lines_are_left_out() -> None:
    lines = invoice_posting(
        InvoiceKind.AR,
        party_account_id=RECEIVABLE,
        tax_account_id=TAX,
        nets={REVENUE: D("50.00"), EXPENSE: Z},
        tax=Z,
    )
    assert [p.account_id for p in lines] == [RECEIVABLE, REVENUE]
    assert _balanced(lines)


def test_a_document_worth_nothing_cannot_be_posted() -> None:
    with pytest.raises(BusinessRuleViolation, match="nothing to post"):
        invoice_posting(
            InvoiceKind.AP, party_account_id=PAYABLE, tax_account_id=TAX, nets={EXPENSE: Z}, tax=Z
        )
