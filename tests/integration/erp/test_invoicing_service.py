import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from companion.audit.models import AuditEntry
from companion.erp.documents import DocLineIn
from companion.erp.invoicing import repository as repo
from companion.erp.invoicing.models import Invoice, InvoiceKind, InvoiceStatus
from companion.erp.invoicing.schemas import InvoiceFilters
from companion.erp.invoicing.service import (
    create_invoice,
    post_invoice,
    refresh_payment_status,
    void_invoice,
)
from companion.erp.ledger import repository as ledger
from companion.erp.payments.models import PaymentKind
from companion.erp.payments.service import record_payment
from companion.errors import BusinessRuleViolation, InvalidState, NotFound, PermissionDenied
from companion.tenancy.context import RequestContext
from factories import make_context
from finance_factories import (
    JAN,
    Books,
    make_books,
    make_customer,
    posted_bill,
    posted_invoice,
)

D = Decimal
Z = D("0")


def _ar_draft(session: Session, books: Books, ctx: RequestContext | None = None) -> Invoice:
    """Two goods at list price (100.00, 10% tax) and one service line."""
    return create_invoice(
        session,
        ctx or books.ctx,
        kind=InvoiceKind.AR,
        party_id=books.customer.id,
        issue_date=dt.date(2026, 3, 10),
        lines=[
            DocLineIn(item_id=books.goods.id, quantity=D("2")),
            DocLineIn(item_id=books.service.id, quantity=D("1"), discount_pct=D("10")),
        ],
    )


def _voucher_lines(
    session: Session, books: Books, voucher_id: int
) -> set[tuple[str, Decimal, Decimal]]:
    voucher = ledger.get_voucher(session, books.ctx, voucher_id)
    return {(line.account.code, line.debit, line.credit) for line in voucher.lines}


# --- drafts ---------------------------------------------------------------------------


def test_an_ar_draft_prices_from_the_item_and_dates_from_the_terms(session: Session) -> None:
    books = make_books(session)
    invoice = _ar_draft(session, books)
    assert invoice.number == "INV-2026-0001"
    assert invoice.status == InvoiceStatus.DRAFT and invoice.journal_id is None
    assert invoice.due_date == dt.date(2026, 4, 9)  # 30 days
    assert [(ln.unit_price, ln.net_amount, ln.tax_amount) for ln in invoice.lines] == [
        (D("100.00"), D("200.00"), D("20.00")),
        (D("50.00"), D("45.00"), Z),
    ]
    assert (invoice.subtotal, invoice.discount_total, invoice.tax_total, invoice.total) == (
        D("245.00"),
        D("5.00"),
        D("20.00"),
        D("265.00"),
    )
    assert invoice.currency == "USD" and invoice.customer_id == books.customer.id


def test_an_ap_bill_prices_at_cost_and_is_numbered_as_a_bill(session: Session) -> None:
    books = make_books(session)
    bill = create_invoice(
        session,
        books.ctx,
        kind=InvoiceKind.AP,
        party_id=books.supplier.id,
        issue_date=dt.date(2026, 3, 10),
        lines=[
            DocLineIn(item_id=books.goods.id, quantity=D("3")),
            DocLineIn(item_id=books.service.id, quantity=D("1")),
        ],
        supplier_reference=" SUP-778 ",
    )
    assert bill.number == "BILL-2026-0001"
    assert bill.due_date == dt.date(2026, 4, 24)  # 45 days
    assert [ln.unit_price for ln in bill.lines] == [D("60.00"), D("20.00")]
    assert bill.total == D("218.00")  # 180 + 18 tax + 20
    assert bill.supplier_reference == "SUP-778" and bill.customer_id is None


def test_numbers_follow_the_issue_year(session: Session) -> None:
    books = make_books(session)
    kwargs = {"kind": InvoiceKind.AR, "party_id": books.customer.id}
    lines = [DocLineIn(item_id=books.service.id, quantity=D("1"))]
    late = create_invoice(
        session,
        books.ctx,
        issue_date=dt.date(2025, 12, 31),
        lines=lines,
        **kwargs,  # type: ignore[arg-type]
    )
    early = create_invoice(
        session,
        books.ctx,
        issue_date=dt.date(2026, 1, 2),
        lines=lines,
        **kwargs,  # type: ignore[arg-type]
    )
    assert (late.number, early.number) == ("INV-2025-0001", "INV-2026-0001")


def test_a_due_date_before_the_issue_date_is_refused(session: Session) -> None:
    books = make_books(session)
    with pytest.raises(BusinessRuleViolation, match="due date"):
        create_invoice(
            session,
            books.ctx,
            kind=InvoiceKind.AR,
            party_id=books.customer.id,
            issue_date=dt.date(2026, 3, 10),
            due_date=dt.date(2026, 3, 9),
            lines=[DocLineIn(item_id=books.service.id, quantity=D("1"))],
        )


def test_another_companys_customer_or_item_answers_not_found(session: Session) -> None:
    books = make_books(session)
    other = make_books(session, "globex")
    with pytest.raises(NotFound, match="Customer"):
        create_invoice(
            session,
            books.ctx,
            kind=InvoiceKind.AR,
            party_id=other.customer.id,
            issue_date=JAN,
            lines=[DocLineIn(item_id=books.service.id, quantity=D("1"))],
        )
    with pytest.raises(NotFound, match="Item"):
        create_invoice(
            session,
            books.ctx,
            kind=InvoiceKind.AR,
            party_id=books.customer.id,
            issue_date=JAN,
            lines=[DocLineIn(item_id=other.service.id, quantity=D("1"))],
        )


def test_an_inactive_customer_cannot_be_invoiced(session: Session) -> None:
    books = make_books(session)
    gone = make_customer(session, books.company, "OLD", active=False)
    with pytest.raises(BusinessRuleViolation, match="inactive"):
        create_invoice(
            session,
            books.ctx,
            kind=InvoiceKind.AR,
            party_id=gone.id,
            issue_date=JAN,
            lines=[DocLineIn(item_id=books.service.id, quantity=D("1"))],
        )


def test_who_may_prepare_which_draft(session: Session) -> None:
    books = make_books(session)
    sales = make_context(session, books.company, ["sales"])
    buyer = make_context(session, books.company, ["procurement"])
    viewer = make_context(session, books.company, ["viewer"])
    assert _ar_draft(session, books, sales).created_by_id == sales.user_id
    with pytest.raises(PermissionDenied, match="sales.write"):
        _ar_draft(session, books, buyer)
    with pytest.raises(PermissionDenied):
        _ar_draft(session, books, viewer)
    bill = create_invoice(
        session,
        buyer,
        kind=InvoiceKind.AP,
        party_id=books.supplier.id,
        issue_date=JAN,
        lines=[DocLineIn(item_id=books.service.id, quantity=D("1"))],
    )
    assert bill.status == InvoiceStatus.DRAFT
    with pytest.raises(PermissionDenied, match="finance.post"):
        post_invoice(session, sales, _ar_draft(session, books, sales).id)


# --- posting --------------------------------------------------------------------------


def test_posting_an_invoice_writes_a_balanced_voucher(session: Session) -> None:
    books = make_books(session)
    invoice = post_invoice(session, books.ctx, _ar_draft(session, books).id)
    assert invoice.status == InvoiceStatus.POSTED and invoice.journal_id is not None
    assert _voucher_lines(session, books, invoice.journal_id) == {
        ("1100", D("265.00"), Z),
        ("4000", Z, D("245.00")),
        ("2100", Z, D("20.00")),
    }
    voucher = ledger.get_voucher(session, books.ctx, invoice.journal_id)
    assert voucher.voucher_date == invoice.issue_date
    assert (voucher.source_type, voucher.source_id) == ("invoice", invoice.id)
    [receivable] = [ln for ln in voucher.lines if ln.account.code == "1100"]
    assert receivable.customer_id == books.customer.id
    assert voucher.memo == f"Invoice {invoice.number}, Customer C1"


def test_posting_a_bill_debits_inventory_for_stocked_items(session: Session) -> None:
    books = make_books(session)
    bill = create_invoice(
        session,
        books.ctx,
        kind=InvoiceKind.AP,
        party_id=books.supplier.id,
        issue_date=JAN,
        lines=[
            DocLineIn(item_id=books.goods.id, quantity=D("2")),
            DocLineIn(item_id=books.service.id, quantity=D("1")),
        ],
    )
    bill = post_invoice(session, books.ctx, bill.id, on=dt.date(2026, 1, 5))
    assert bill.journal_id is not None
    assert _voucher_lines(session, books, bill.journal_id) == {
        ("1200", D("120.00"), Z),
        ("6000", D("20.00"), Z),
        ("1300", D("12.00"), Z),
        ("2000", Z, D("152.00")),
    }
    assert ledger.get_voucher(session, books.ctx, bill.journal_id).voucher_date == dt.date(
        2026, 1, 5
    )


def test_only_a_draft_can_be_posted_and_not_before_it_is_issued(session: Session) -> None:
    books = make_books(session)
    draft = _ar_draft(session, books)
    with pytest.raises(BusinessRuleViolation, match="before its issue date"):
        post_invoice(session, books.ctx, draft.id, on=dt.date(2026, 3, 9))
    post_invoice(session, books.ctx, draft.id)
    with pytest.raises(InvalidState, match="only a draft"):
        post_invoice(session, books.ctx, draft.id)


def test_another_companys_invoice_cannot_be_posted(session: Session) -> None:
    books = make_books(session)
    other = make_books(session, "globex")
    theirs = _ar_draft(session, other)
    with pytest.raises(NotFound):
        post_invoice(session, books.ctx, theirs.id)
    assert theirs.status == InvoiceStatus.DRAFT


def test_create_and_post_are_audited(session: Session) -> None:
    books = make_books(session)
    invoice = post_invoice(session, books.ctx, _ar_draft(session, books).id)
    entries = session.execute(
        select(AuditEntry)
        .where(AuditEntry.entity_type == "invoice", AuditEntry.entity_id == str(invoice.id))
        .order_by(AuditEntry.seq)
    ).scalars()
    actions = [
        (e.action, (e.old_values or {}).get("status"), (e.new_values or {})["status"])
        for e in entries
    ]
    assert actions == [("invoice.create", None, "draft"), ("invoice.post", "draft", "posted")]


# --- voiding --------------------------------------------------------------------------


def test_voiding_a_draft_touches_no_ledger(session: Session) -> None:
    books = make_books(session)
    draft = _ar_draft(session, books)
    _, before = ledger.list_vouchers(session, books.ctx)
    void_invoice(session, books.ctx, draft.id, on=JAN, reason="Duplicate")
    assert draft.status == InvoiceStatus.VOID
    assert ledger.list_vouchers(session, books.ctx)[1] == before


def test_voiding_a_posted_invoice_reverses_its_voucher(session: Session) -> None:
    books = make_books(session)
    invoice = posted_invoice(session, books, amount="300.00")
    void_invoice(session, books.ctx, invoice.id, on=dt.date(2026, 1, 20), reason="Wrong customer")
    assert invoice.status == InvoiceStatus.VOID
    assert invoice.journal_id is not None
    reversal = ledger.reversal_of(session, books.ctx, invoice.journal_id)
    assert reversal is not None and reversal.voucher_date == dt.date(2026, 1, 20)
    assert "Wrong customer" in reversal.memo
    balances = {b.code: b.balance for b in ledger.account_balances(session, books.ctx)}
    assert (balances["1100"], balances["4000"]) == (Z, Z)
    with pytest.raises(InvalidState, match="already void"):
        void_invoice(session, books.ctx, invoice.id, on=dt.date(2026, 1, 20), reason="again")


def test_an_invoice_with_a_payment_cannot_be_voided(session: Session) -> None:
    books = make_books(session)
    invoice = posted_invoice(session, books, amount="300.00")
    record_payment(
        session,
        books.ctx,
        kind=PaymentKind.RECEIPT,
        party_id=books.customer.id,
        bank_account_id=books.bank.id,
        amount=D("10.00"),
        payment_date=JAN,
    )
    with pytest.raises(InvalidState, match="payments allocated") as err:
        void_invoice(session, books.ctx, invoice.id, on=JAN, reason="x")
    assert err.value.details["amount_paid"] == "10.00"
    assert invoice.status == InvoiceStatus.PARTIALLY_PAID


def test_voiding_needs_a_reason_and_a_posted_one_needs_finance(session: Session) -> None:
    books = make_books(session)
    sales = make_context(session, books.company, ["sales"])
    invoice = posted_invoice(session, books)
    with pytest.raises(BusinessRuleViolation, match="why"):
        void_invoice(session, books.ctx, invoice.id, on=JAN, reason=" ")
    with pytest.raises(PermissionDenied, match="finance.post"):
        void_invoice(session, sales, invoice.id, on=JAN, reason="x")
    draft = _ar_draft(session, books, sales)
    assert void_invoice(session, sales, draft.id, on=JAN, reason="typo").status == "void"


def test_refresh_payment_status_refuses_drafts(session: Session) -> None:
    books = make_books(session)
    draft = _ar_draft(session, books)
    with pytest.raises(InvalidState, match="only to posted"):
        refresh_payment_status(draft)


# --- reads ----------------------------------------------------------------------------


def test_invoices_are_found_by_number_and_listed_with_filters(session: Session) -> None:
    books = make_books(session)
    other = make_books(session, "globex")
    old = posted_invoice(session, books, on=JAN, amount="100.00")  # due 31 Jan
    recent = posted_invoice(session, books, on=dt.date(2026, 3, 1), customer=books.customer2)
    posted_bill(session, books)
    draft = _ar_draft(session, books)
    posted_invoice(session, other)
    today = dt.date(2026, 3, 5)

    def numbers(**filters: object) -> list[str]:
        items, total = repo.list_invoices(
            session, books.ctx, InvoiceFilters(**filters), today=today
        )  # type: ignore[arg-type]
        assert total == len(items)
        return [i.number for i in items]

    assert numbers(kind=InvoiceKind.AR) == [draft.number, recent.number, old.number]
    assert numbers(overdue=True) == ["BILL-2026-0001", old.number]  # the bill was due 15 Feb
    assert numbers(overdue=True, kind=InvoiceKind.AR) == [old.number]
    assert numbers(status=InvoiceStatus.DRAFT) == [draft.number]
    assert numbers(customer_id=books.customer2.id) == [recent.number]
    assert numbers(kind=InvoiceKind.AP) == ["BILL-2026-0001"]
    assert numbers(from_date=dt.date(2026, 2, 1), to_date=dt.date(2026, 3, 1)) == [recent.number]
    assert numbers(q="inv-2026-000") == [draft.number, recent.number, old.number]
    page, total = repo.list_invoices(
        session, books.ctx, InvoiceFilters(), today=today, limit=1, offset=1
    )
    assert total == 4 and len(page) == 1
    assert repo.get_invoice_by_number(session, books.ctx, "inv-2026-0002").id == recent.id
    theirs = repo.list_invoices(session, other.ctx, InvoiceFilters(), today=today)[0][0]
    with pytest.raises(NotFound):
        repo.get_invoice(session, books.ctx, theirs.id)
    assert theirs.number == "INV-2026-0001"
    with pytest.raises(NotFound):
        repo.get_invoice_by_number(session, books.ctx, "INV-2099-0001")
