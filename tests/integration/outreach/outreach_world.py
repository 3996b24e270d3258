"""A small ledger for the outreach tests: overdue, current and late-paid invoices, a late PO."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from sqlalchemy.orm import Session

from companion.erp.documents import DocLineIn
from companion.erp.invoicing.models import Invoice
from companion.erp.items.models import Warehouse
from companion.erp.parties.models import Customer
from companion.erp.payments.models import PaymentKind
from companion.erp.payments.schemas import AllocationIn
from companion.erp.payments.service import record_payment
from companion.erp.purchasing.models import POStatus, PurchaseOrder
from companion.erp.purchasing.service import create_purchase_order
from companion.llm import LLMProvider, LLMService, NoneProvider, PolicyBook, ProviderRegistry
from companion.llm.service import ProviderFactory
from factories import make_context
from finance_factories import Books, make_books, make_customer, posted_invoice

D = Decimal
TODAY = dt.date(2026, 3, 15)


@dataclass
class World:
    """acme's books with three customers and a late purchase order."""

    books: Books
    c1: Customer  # two overdue invoices, one not yet due, one paid 20 days late; has e-mail
    c2: Customer  # one overdue invoice, no e-mail, no payment history
    c3: Customer  # nothing overdue
    overdue: list[Invoice]  # c1's, oldest due first
    current: Invoice  # c1's, not yet due
    c2_overdue: Invoice
    order: PurchaseOrder  # approved, 4 of 10 received, expected 2026-03-01


def build_world(session: Session, slug: str = "acme") -> World:
    """The ledger above, in company ``slug`` (USD, locale en)."""
    books = make_books(session, slug)
    c1 = books.customer
    c1.email = "ap@c1.example"
    c1.credit_limit = D("2000.00")
    c2 = books.customer2
    c3 = make_customer(session, books.company, "C3")
    paid_late = posted_invoice(
        session, books, amount="100.00", on=dt.date(2026, 1, 2), due=dt.date(2026, 1, 10)
    )
    record_payment(
        session,
        books.ctx,
        kind=PaymentKind.RECEIPT,
        party_id=c1.id,
        bank_account_id=books.bank.id,
        amount=D("100.00"),
        payment_date=dt.date(2026, 1, 30),
        allocations=[AllocationIn(invoice_id=paid_late.id, amount=D("100.00"))],
    )
    first = posted_invoice(
        session, books, amount="1500.00", on=dt.date(2026, 1, 1), due=dt.date(2026, 1, 31)
    )
    second = posted_invoice(
        session, books, amount="250.50", on=dt.date(2026, 2, 1), due=dt.date(2026, 3, 3)
    )
    current = posted_invoice(
        session, books, amount="80.00", on=dt.date(2026, 3, 10), due=dt.date(2026, 4, 9)
    )
    c2_overdue = posted_invoice(
        session,
        books,
        amount="100.00",
        on=dt.date(2026, 2, 1),
        due=dt.date(2026, 2, 16),
        customer=c2,
    )
    posted_invoice(
        session,
        books,
        amount="40.00",
        on=dt.date(2026, 3, 1),
        due=dt.date(2026, 3, 31),
        customer=c3,
    )
    books.supplier.email = "sales@s1.example"
    session.add(Warehouse(company_id=books.company.id, code="MAIN", name="Main"))
    buyer = make_context(session, books.company, ["procurement"], username=f"{slug}-buyer")
    order = create_purchase_order(
        session,
        buyer,
        supplier_id=books.supplier.id,
        order_date=dt.date(2026, 2, 1),
        expected_date=dt.date(2026, 3, 1),
        lines=[DocLineIn(item_id=books.goods.id, quantity=D("10"))],
    )
    # Approval and receipt have their own tests; here only the resulting state matters.
    order.status = POStatus.PARTIALLY_RECEIVED.value
    order.lines[0].received_quantity = D("4")
    session.flush()
    return World(books, c1, c2, c3, [first, second], current, c2_overdue, order)


def llm_with(
    provider: LLMProvider | None = None, tmp_path: Path | None = None, policies: str = ""
) -> LLMService:
    """An LLM service whose default provider is ``provider`` (None: no model at all)."""
    factories: dict[str, ProviderFactory] = {"default": NoneProvider}
    if provider is not None:
        factories = {"default": lambda: provider}
    path = None
    if policies and tmp_path is not None:
        path = tmp_path / "policies.yml"
        path.write_text(policies, encoding="utf-8")
    return LLMService(ProviderRegistry(factories), PolicyBook.load(path))
