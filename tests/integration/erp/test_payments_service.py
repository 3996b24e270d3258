import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session

from companion.audit.service import verify
from companion.erp.invoicing.models import Invoice, InvoiceStatus
from companion.erp.invoicing.service import void_invoice
from companion.erp.ledger import repository as ledger
from companion.erp.payments import repository as repo
from companion.erp.payments.models import Payment, PaymentKind, PaymentStatus
from companion.erp.payments.schemas import PaymentFilters, PaymentOut
from companion.erp.payments.service import AllocationIn, record_payment, void_payment
from companion.errors import BusinessRuleViolation, InvalidState, NotFound, PermissionDenied
from companion.tenancy.context import RequestContext
from factories import make_context
from finance_factories import JAN, Books, make_books, posted_bill, posted_invoice

D = Decimal
Z = D("0")
FEB = dt.date(2026, 2, 10)


def _receive(
    session: Session,
    books: Books,
    amount: str,
    allocations: list[AllocationIn] | None = None,
    *,
    customer_id: int | None = None,
    ctx: RequestContext | None = None,
) -> Payment:
    return record_payment(
        session,
        ctx or books.ctx,
        kind=PaymentKind.RECEIPT,
        party_id=customer_id or books.customer.id,
        bank_account_id=books.bank.id,
        amount=D(amount),
        payment_date=FEB,
        allocations=allocations,
        reference="TT-1",
    )


def _three_invoices(session: Session, books: Books) -> tuple[Invoice, Invoice, Invoice]:
    """Created in an order different from their due dates: c is due first, then a, then b."""
    a = posted_invoice(session, books, amount="100.00", due=dt.date(2026, 2, 1))
    b = posted_invoice(session, books, amount="200.00", due=dt.date(2026, 3, 1))
    c = posted_invoice(session, books, amount="300.00", due=dt.date(2026, 1, 15))
    return a, b, c


def _balance(session: Session, books: Books, code: str) -> Decimal:
    return {b.code: b.balance for b in ledger.account_balances(session, books.ctx)}[code]


# --- receipts -------------------------------------------------------------------------


def test_a_receipt_settles_open_invoices_oldest_due_first(session: Session) -> None:
    books = make_books(session)
    a, b, c = _three_invoices(session, books)
    receipt = _receive(session, books, "350.00")
    assert receipt.number == "RCPT-2026-0001"
    assert [(x.invoice_id, x.amount) for x in receipt.allocations] == [
        (c.id, D("300.00")),
        (a.id, D("50.00")),
    ]
    assert (c.status, c.amount_paid) == (InvoiceStatus.PAID, D("300.00"))
    assert (a.status, a.amount_paid) == (InvoiceStatus.PARTIALLY_PAID, D("50.00"))
    assert (b.status, b.amount_paid) == (InvoiceStatus.POSTED, Z)


def test_what_is_not_allocated_stays_on_account(session: Session) -> None:
    books = make_books(session)
    invoice = posted_invoice(session, books, amount="100.00")
    receipt = _receive(session, books, "150.00")
    out = PaymentOut.of(receipt)
    assert (out.allocated, out.unallocated) == (D("100.00"), D("50.00"))
    assert invoice.status == InvoiceStatus.PAID
    # The receivable is the customer's open invoices less money held on account.
    assert _balance(session, books, "1100") == D("-50.00")


def test_partial_then_full_payment_moves_the_status(session: Session) -> None:
    books = make_books(session)
    invoice = posted_invoice(session, books, amount="100.00")
    _receive(session, books, "40.00", [AllocationIn(invoice_id=invoice.id, amount=D("40.00"))])
    assert (invoice.status, invoice.open_amount) == (InvoiceStatus.PARTIALLY_PAID, D("60.00"))
    _receive(session, books, "60.00", [AllocationIn(invoice_id=invoice.id, amount=D("60.00"))])
    assert (invoice.status, invoice.open_amount) == (InvoiceStatus.PAID, Z)


def test_a_receipt_posts_bank_against_receivable(session: Session) -> None:
    books = make_books(session)
    posted_invoice(session, books, amount="100.00")
    receipt = _receive(session, books, "100.00")
    assert receipt.journal_id is not None
    voucher = ledger.get_voucher(session, books.ctx, receipt.journal_id)
    assert [(x.account.code, x.debit, x.credit, x.customer_id) for x in voucher.lines] == [
        ("1010", D("100.00"), Z, None),
        ("1100", Z, D("100.00"), books.customer.id),
    ]
    assert (voucher.source_type, voucher.source_id) == ("payment", receipt.id)
    [bank] = ledger.bank_balances(session, books.ctx)
    assert bank.balance == D("10100.00")
    assert _balance(session, books, "1100") == Z


# --- refusals -------------------------------------------------------------------------


def test_an_allocation_over_the_open_amount_is_refused(session: Session) -> None:
    books = make_books(session)
    invoice = posted_invoice(session, books, amount="100.00")
    _receive(session, books, "30.00")
    with pytest.raises(BusinessRuleViolation, match="still open") as err:
        _receive(session, books, "80.00", [AllocationIn(invoice_id=invoice.id, amount=D("80.00"))])
    assert err.value.details["open_amount"] == "70.00"
    assert invoice.amount_paid == D("30.00")


def test_allocations_beyond_the_payment_are_refused(session: Session) -> None:
    books = make_books(session)
    a, b, _ = _three_invoices(session, books)
    with pytest.raises(BusinessRuleViolation, match="exceed the payment") as err:
        _receive(
            session,
            books,
            "250.00",
            [
                AllocationIn(invoice_id=a.id, amount=D("100.00")),
                AllocationIn(invoice_id=b.id, amount=D("200.00")),
            ],
        )
    assert err.value.details == {"allocated": "300.00", "amount": "250.00"}
    assert (a.amount_paid, b.amount_paid) == (Z, Z)


def test_another_customers_invoice_cannot_take_the_receipt(session: Session) -> None:
    books = make_books(session)
    theirs = posted_invoice(session, books, customer=books.customer2)
    with pytest.raises(BusinessRuleViolation, match="not one of this customer's") as err:
        _receive(session, books, "10.00", [AllocationIn(invoice_id=theirs.id, amount=D("10.00"))])
    assert err.value.details["number"] == theirs.number


def test_a_bill_cannot_take_a_customer_receipt(session: Session) -> None:
    books = make_books(session)
    bill = posted_bill(session, books)
    with pytest.raises(BusinessRuleViolation, match="not one of this"):
        _receive(session, books, "10.00", [AllocationIn(invoice_id=bill.id, amount=D("10.00"))])


def test_another_companys_invoice_answers_not_found(session: Session) -> None:
    books = make_books(session)
    other = make_books(session, "globex")
    theirs = posted_invoice(session, other)
    with pytest.raises(NotFound) as err:
        _receive(session, books, "10.00", [AllocationIn(invoice_id=theirs.id, amount=D("10.00"))])
    assert err.value.details == {"invoice_ids": [theirs.id]}
    assert theirs.amount_paid == Z
    with pytest.raises(NotFound, match="Customer"):
        _receive(session, books, "10.00", customer_id=other.customer.id)
    with pytest.raises(NotFound, match="Bank account"):
        record_payment(
            session,
            books.ctx,
            kind=PaymentKind.RECEIPT,
            party_id=books.customer.id,
            bank_account_id=other.bank.id,
            amount=D("1.00"),
            payment_date=FEB,
        )


def test_drafts_and_void_invoices_take_no_payment(session: Session) -> None:
    books = make_books(session)
    voided = posted_invoice(session, books)
    void_invoice(session, books.ctx, voided.id, on=JAN, reason="x")
    with pytest.raises(BusinessRuleViolation, match="only open documents"):
        _receive(session, books, "10.00", [AllocationIn(invoice_id=voided.id, amount=D("10.00"))])
    receipt = _receive(session, books, "10.00")  # oldest-first skips it too
    assert receipt.allocations == []


@pytest.mark.parametrize("amount", ["0", "-5.00", "1.001"])
def test_a_payment_amount_must_be_positive_cents(session: Session, amount: str) -> None:
    books = make_books(session)
    with pytest.raises(BusinessRuleViolation, match="amount"):
        _receive(session, books, amount)


def test_recording_payments_needs_finance_post(session: Session) -> None:
    books = make_books(session)
    sales = make_context(session, books.company, ["sales"])
    with pytest.raises(PermissionDenied, match="finance.post"):
        _receive(session, books, "10.00", ctx=sales)


# --- supplier payments ----------------------------------------------------------------


def test_a_supplier_payment_debits_payable_and_credits_the_bank(session: Session) -> None:
    books = make_books(session)
    bill = posted_bill(session, books, amount="400.00")
    payment = record_payment(
        session,
        books.ctx,
        kind=PaymentKind.PAYMENT,
        party_id=books.supplier.id,
        bank_account_id=books.bank.id,
        amount=D("150.00"),
        payment_date=FEB,
    )
    assert payment.number == "PAY-2026-0001" and payment.supplier_id == books.supplier.id
    assert (bill.status, bill.amount_paid) == (InvoiceStatus.PARTIALLY_PAID, D("150.00"))
    assert payment.journal_id is not None
    voucher = ledger.get_voucher(session, books.ctx, payment.journal_id)
    assert [(x.account.code, x.debit, x.credit, x.supplier_id) for x in voucher.lines] == [
        ("2000", D("150.00"), Z, books.supplier.id),
        ("1010", Z, D("150.00"), None),
    ]
    assert _balance(session, books, "2000") == D("250.00")


# --- voiding --------------------------------------------------------------------------


def test_voiding_a_payment_reopens_its_invoices_and_reverses_the_voucher(
    session: Session,
) -> None:
    books = make_books(session)
    a, b, c = _three_invoices(session, books)
    receipt = _receive(session, books, "350.00")
    void_payment(session, books.ctx, receipt.id, on=dt.date(2026, 2, 11), reason="Bounced")
    assert receipt.status == PaymentStatus.VOID
    assert [(i.status, i.amount_paid) for i in (a, b, c)] == [(InvoiceStatus.POSTED, Z)] * 3
    assert receipt.journal_id is not None
    assert ledger.reversal_of(session, books.ctx, receipt.journal_id) is not None
    assert ledger.bank_balances(session, books.ctx)[0].balance == D("10000.00")
    assert _balance(session, books, "1100") == D("600.00")
    with pytest.raises(InvalidState, match="already void"):
        void_payment(session, books.ctx, receipt.id, on=dt.date(2026, 2, 11), reason="again")


def test_voiding_one_of_two_payments_leaves_the_other(session: Session) -> None:
    books = make_books(session)
    invoice = posted_invoice(session, books, amount="100.00")
    first = _receive(session, books, "40.00")
    _receive(session, books, "60.00")
    assert invoice.status == InvoiceStatus.PAID
    void_payment(session, books.ctx, first.id, on=FEB, reason="Duplicate entry")
    assert (invoice.status, invoice.amount_paid) == (InvoiceStatus.PARTIALLY_PAID, D("60.00"))


def test_another_companys_payment_cannot_be_voided(session: Session) -> None:
    books = make_books(session)
    other = make_books(session, "globex")
    posted_invoice(session, other)
    theirs = _receive(session, other, "10.00")
    with pytest.raises(NotFound):
        void_payment(session, books.ctx, theirs.id, on=FEB, reason="x")
    assert theirs.status == PaymentStatus.POSTED


# --- the books as a whole -------------------------------------------------------------


def test_after_everything_the_books_balance_and_the_audit_chain_holds(session: Session) -> None:
    books = make_books(session)
    other = make_books(session, "globex")
    a, b, c = _three_invoices(session, books)
    bill = posted_bill(session, books, amount="500.00")
    first = _receive(session, books, "350.00")
    _receive(session, books, "100.00", [AllocationIn(invoice_id=b.id, amount=D("100.00"))])
    void_payment(session, books.ctx, first.id, on=FEB, reason="Bounced")
    record_payment(
        session,
        books.ctx,
        kind=PaymentKind.PAYMENT,
        party_id=books.supplier.id,
        bank_account_id=books.bank.id,
        amount=D("500.00"),
        payment_date=FEB,
    )
    void_invoice(session, books.ctx, a.id, on=FEB, reason="Wrong price")
    posted_invoice(session, other)

    tb = ledger.trial_balance(session, books.ctx)
    assert tb.balanced and tb.total_debit > 0
    open_ar = b.open_amount + c.open_amount
    assert _balance(session, books, "1100") == open_ar == D("400.00")
    assert _balance(session, books, "2000") == Z and bill.status == InvoiceStatus.PAID
    assert ledger.bank_balances(session, books.ctx)[0].balance == D("9600.00")
    assert verify(session).ok

    listed, total = repo.list_payments(session, books.ctx, PaymentFilters())
    assert total == 3 and {p.company_id for p in listed} == {books.company.id}
    receipts, _ = repo.list_payments(
        session, books.ctx, PaymentFilters(kind=PaymentKind.RECEIPT, status=PaymentStatus.POSTED)
    )
    assert [PaymentOut.of(p).allocations[0].invoice_number for p in receipts] == [b.number]
