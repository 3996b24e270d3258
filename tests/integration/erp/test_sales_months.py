"""The ledger keeps ``sales_months`` equal to its invoices, operation by operation."""

import datetime as dt
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from companion.erp.documents import DocLineIn
from companion.erp.invoicing.models import Invoice, InvoiceKind, SalesMonth, is_sale
from companion.erp.invoicing.service import create_invoice, post_invoice, void_invoice
from companion.erp.payments.models import PaymentKind
from companion.erp.payments.service import record_payment, void_payment
from finance_factories import Books, make_books, posted_bill, posted_invoice

D = Decimal
CENT = D("0.01")


def recomputed(session: Session, company_id: int) -> dict[tuple[int, dt.date], tuple]:
    """Sales per customer and month of issue, summed from the invoices themselves."""
    sums: dict[tuple[int, dt.date], tuple] = {}
    rows = session.execute(
        select(Invoice.customer_id, Invoice.issue_date, Invoice.subtotal, Invoice.tax_total)
        .where(Invoice.company_id == company_id, is_sale())
    ).all()  # fmt: skip
    for customer_id, issued, subtotal, tax in rows:
        key = (customer_id, issued.replace(day=1))
        amount, taxed, n = sums.get(key, (D(0), D(0), 0))
        sums[key] = (amount + subtotal, taxed + tax, n + 1)
    return {k: (a.quantize(CENT), t.quantize(CENT), n) for k, (a, t, n) in sums.items()}


def kept(session: Session, company_id: int) -> dict[tuple[int, dt.date], tuple]:
    """The ledger's rows with an invoice in them (a month voided to nothing keeps a zero row)."""
    rows = session.execute(
        select(SalesMonth).where(SalesMonth.company_id == company_id, SalesMonth.invoices != 0)
    ).scalars()
    return {(r.customer_id, r.month): (r.amount, r.tax, r.invoices) for r in rows}


def _taxed(session: Session, books: Books, on: dt.date) -> Invoice:
    """Two taxed goods (10%) and a discounted service, to the second customer."""
    draft = create_invoice(
        session,
        books.ctx,
        kind=InvoiceKind.AR,
        party_id=books.customer2.id,
        issue_date=on,
        lines=[
            DocLineIn(item_id=books.goods.id, quantity=D("2")),
            DocLineIn(item_id=books.service.id, quantity=D("1"), discount_pct=D("10")),
        ],
    )
    return post_invoice(session, books.ctx, draft.id)


def test_posting_voiding_and_payments_keep_the_summary_equal_to_the_invoices(
    session: Session,
) -> None:
    books = make_books(session, "months")
    other = make_books(session, "months-other")
    ctx, company = books.ctx, books.company.id
    mar, apr = dt.date(2026, 3, 10), dt.date(2026, 4, 2)

    first = posted_invoice(session, books, amount="100.00", on=mar)
    assert kept(session, company) == {(books.customer.id, dt.date(2026, 3, 1)): (
        D("100.00"), D("0.00"), 1)}  # fmt: skip
    posted_invoice(session, books, amount="0.10", on=dt.date(2026, 3, 31))  # same month
    _taxed(session, books, apr)  # 245.00 net, 20.00 tax
    draft = create_invoice(
        session,
        ctx,
        kind=InvoiceKind.AR,
        party_id=books.customer.id,
        issue_date=apr,
        lines=[DocLineIn(item_id=books.service.id, quantity=D("1"), unit_price=D("70.00"))],
    )
    assert kept(session, company) == recomputed(session, company)  # a draft sells nothing
    void_invoice(session, ctx, draft.id, on=apr, reason="Not needed")  # a draft: no change
    backdated = posted_invoice(session, books, amount="55.55", on=dt.date(2025, 11, 30))
    posted_bill(session, books, amount="999.00")  # a supplier bill is no sale
    # Paid in part, then in full, then the payment voided: always sold, whatever is paid.
    part = record_payment(
        session,
        ctx,
        kind=PaymentKind.RECEIPT,
        party_id=books.customer.id,
        bank_account_id=books.bank.id,
        amount=D("30.00"),
        payment_date=apr,
    )
    record_payment(
        session,
        ctx,
        kind=PaymentKind.RECEIPT,
        party_id=books.customer.id,
        bank_account_id=books.bank.id,
        amount=D("200.00"),
        payment_date=apr,
    )
    void_payment(session, ctx, part.id, on=apr, reason="Bounced")
    assert kept(session, company) == recomputed(session, company)
    # Voiding a posted invoice takes it off its month; the month's other invoice stays.
    lone = posted_invoice(session, books, amount="40.00", on=dt.date(2026, 5, 5))
    void_invoice(session, ctx, lone.id, on=dt.date(2026, 5, 6), reason="Raised in error")
    posted_invoice(session, other, amount="12.34", on=mar)  # another company's sale
    session.flush()

    rows = kept(session, company)
    assert rows == recomputed(session, company)
    assert rows[(books.customer2.id, dt.date(2026, 4, 1))] == (D("245.00"), D("20.00"), 1)
    assert rows[(books.customer.id, dt.date(2025, 11, 1))] == (D("55.55"), D("0.00"), 1)
    assert (books.customer.id, dt.date(2026, 5, 1)) not in rows  # voided to nothing
    assert first.status != "posted" and backdated.status != "posted"  # paid since: still sold
    assert kept(session, other.company.id) == recomputed(session, other.company.id)
    assert kept(session, other.company.id) == {
        (other.customer.id, dt.date(2026, 3, 1)): (D("12.34"), D("0.00"), 1)
    }
    zero = session.execute(
        select(func.count()).where(SalesMonth.company_id == company, SalesMonth.invoices == 0)
    ).scalar_one()
    assert zero == 1  # May: posted then voided, a row of nothing the engine skips
