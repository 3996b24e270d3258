"""Builders for finance tests: a company with a chart, parties, items and a bank account."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.orm import Session

from companion.erp.documents import DocLineIn
from companion.erp.invoicing.models import Invoice, InvoiceKind
from companion.erp.invoicing.service import create_invoice, post_invoice
from companion.erp.items.models import Item
from companion.erp.ledger.models import BankAccount
from companion.erp.ledger.service import create_bank_account, setup_company_ledger
from companion.erp.parties.models import Customer, Supplier
from companion.tenancy.context import RequestContext
from companion.tenancy.models import Company
from factories import make_company, make_context

D = Decimal
JAN = dt.date(2026, 1, 1)


def make_customer(
    session: Session, company: Company, code: str, *, terms: int = 30, active: bool = True
) -> Customer:
    customer = Customer(
        company_id=company.id,
        code=code,
        name=f"Customer {code}",
        payment_terms_days=terms,
        is_active=active,
    )
    session.add(customer)
    session.flush()
    return customer


def make_supplier(session: Session, company: Company, code: str, *, terms: int = 45) -> Supplier:
    supplier = Supplier(
        company_id=company.id, code=code, name=f"Supplier {code}", payment_terms_days=terms
    )
    session.add(supplier)
    session.flush()
    return supplier


def make_item(
    session: Session,
    company: Company,
    sku: str,
    *,
    price: str = "100.00",
    cost: str = "60.00",
    tax: str = "0",
    tracked: bool = True,
) -> Item:
    item = Item(
        company_id=company.id,
        sku=sku,
        name=f"Item {sku}",
        unit_price=D(price),
        unit_cost=D(cost),
        tax_rate=D(tax),
        is_tracked=tracked,
    )
    session.add(item)
    session.flush()
    return item


@dataclass
class Books:
    """One company ready to trade: chart, a finance user, parties, items, a bank."""

    company: Company
    ctx: RequestContext
    customer: Customer
    customer2: Customer
    supplier: Supplier
    goods: Item  # tracked, taxed at 10%
    service: Item  # not tracked, untaxed
    bank: BankAccount


def make_books(session: Session, slug: str = "acme", *, opening: str = "10000.00") -> Books:
    company = make_company(session, slug)
    setup_company_ledger(session, company.id)
    ctx = make_context(session, company, ["finance"], username=f"{slug}-finance")
    bank = create_bank_account(
        session,
        ctx,
        name="Main account",
        bank_name="City Bank",
        account_number="0001",
        currency=company.base_currency,
        opening_balance=D(opening),
        opening_date=JAN,
    )
    return Books(
        company=company,
        ctx=ctx,
        customer=make_customer(session, company, "C1"),
        customer2=make_customer(session, company, "C2", terms=15),
        supplier=make_supplier(session, company, "S1"),
        goods=make_item(session, company, "G1", tax="10"),
        service=make_item(session, company, "SV", price="50.00", cost="20.00", tracked=False),
        bank=bank,
    )


def posted_invoice(
    session: Session,
    books: Books,
    *,
    amount: str = "100.00",
    on: dt.date = JAN,
    customer: Customer | None = None,
    due: dt.date | None = None,
) -> Invoice:
    """A posted AR invoice of ``amount`` (one untaxed service line)."""
    invoice = create_invoice(
        session,
        books.ctx,
        kind=InvoiceKind.AR,
        party_id=(customer or books.customer).id,
        issue_date=on,
        due_date=due,
        lines=[DocLineIn(item_id=books.service.id, quantity=D("1"), unit_price=D(amount))],
    )
    return post_invoice(session, books.ctx, invoice.id)


def posted_bill(session: Session, books: Books, *, amount: str = "100.00") -> Invoice:
    """A posted AP bill of ``amount`` (one untaxed service line)."""
    bill = create_invoice(
        session,
        books.ctx,
        kind=InvoiceKind.AP,
        party_id=books.supplier.id,
        issue_date=JAN,
        lines=[DocLineIn(item_id=books.service.id, quantity=D("1"), unit_price=D(amount))],
    )
    return post_invoice(session, books.ctx, bill.id)
