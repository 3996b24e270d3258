"""The finance read API: invoices, payments, accounts, bank balances, vouchers, trial balance."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from companion.erp.documents import DocLineIn
from companion.erp.invoicing.models import Invoice, InvoiceKind
from companion.erp.invoicing.service import create_invoice, post_invoice
from companion.erp.ledger.models import BankAccount
from companion.erp.ledger.service import create_bank_account, reverse_journal
from companion.erp.payments.models import Payment, PaymentKind
from companion.erp.payments.service import record_payment
from companion.tenancy.context import RequestContext
from finance_factories import make_customer, make_item, make_supplier

if TYPE_CHECKING:
    from conftest import Tenants

API = "/api/v1"
D = Decimal
# Every finance read endpoint; ids in paths are filled in per test.
ENDPOINTS = [
    "/invoices",
    "/invoices/{invoice_id}",
    "/invoices/by-number/{invoice_number}",
    "/payments",
    "/payments/{payment_id}",
    "/accounts",
    "/accounts/balances",
    "/bank-accounts",
    "/journal-vouchers",
    "/journal-vouchers/{voucher_id}",
    "/reports/trial-balance",
]


@dataclass
class Finance:
    """One company's books as the tests set them up."""

    ctx: RequestContext
    bank: BankAccount
    overdue: Invoice
    current: Invoice
    bill: Invoice
    receipt: Payment

    def ids(self) -> dict[str, Any]:
        return {
            "invoice_id": self.overdue.id,
            "invoice_number": self.overdue.number,
            "payment_id": self.receipt.id,
            "voucher_id": self.overdue.journal_id,
        }


def _books(session: Session, tenants: Tenants, slug: str) -> Finance:
    """A bank, an overdue and a current invoice, a bill, and a receipt part-paying the first."""
    ctx = tenants.context(slug, "finance")
    company = tenants.companies[slug]
    today = tenants.clock.today()
    customer = make_customer(session, company, "C1", terms=30)
    supplier = make_supplier(session, company, "S1")
    service = make_item(session, company, "SV", price="100.00", tracked=False)
    bank = create_bank_account(
        session,
        ctx,
        name="Main",
        bank_name="City Bank",
        account_number="001",
        currency=company.base_currency,
        opening_balance=D("1000.00"),
        opening_date=today - dt.timedelta(days=90),
    )

    def invoice(kind: InvoiceKind, party_id: int, days_ago: int, qty: str) -> Invoice:
        draft = create_invoice(
            session,
            ctx,
            kind=kind,
            party_id=party_id,
            issue_date=today - dt.timedelta(days=days_ago),
            lines=[DocLineIn(item_id=service.id, quantity=D(qty))],
        )
        return post_invoice(session, ctx, draft.id)

    overdue = invoice(InvoiceKind.AR, customer.id, 60, "3")  # 300.00, due 30 days ago
    current = invoice(InvoiceKind.AR, customer.id, 5, "1")  # 100.00
    bill = invoice(InvoiceKind.AP, supplier.id, 10, "2")  # 2 x cost 60.00 = 120.00
    receipt = record_payment(
        session,
        ctx,
        kind=PaymentKind.RECEIPT,
        party_id=customer.id,
        bank_account_id=bank.id,
        amount=D("50.00"),
        payment_date=today - dt.timedelta(days=1),
    )
    session.commit()
    return Finance(ctx, bank, overdue, current, bill, receipt)


@pytest.fixture
def acme(session: Session, tenants: Tenants) -> Finance:
    return _books(session, tenants, "acme")


@pytest.fixture
def globex(session: Session, tenants: Tenants) -> Finance:
    return _books(session, tenants, "globex")


def _get(client: TestClient, tenants: Tenants, path: str, role: str = "finance") -> Any:
    r = client.get(API + path, headers=tenants.headers("acme", role))
    assert r.status_code == 200, r.text
    return r.json()


# --- invoices -------------------------------------------------------------------------


def test_invoices_list_filter_and_page(client: TestClient, tenants: Tenants, acme: Finance) -> None:
    body = _get(client, tenants, "/invoices?kind=ar")
    assert body["total"] == 2
    assert [i["number"] for i in body["items"]] == [acme.current.number, acme.overdue.number]
    first = body["items"][1]
    assert (first["total"], first["amount_paid"], first["open_amount"]) == (
        "300.00",
        "50.00",
        "250.00",
    )
    assert first["status"] == "partially_paid" and len(first["lines"]) == 1
    overdue = _get(client, tenants, "/invoices?overdue=true")
    assert [i["number"] for i in overdue["items"]] == [acme.overdue.number]
    assert [i["number"] for i in _get(client, tenants, "/invoices?kind=ap")["items"]] == [
        acme.bill.number
    ]
    paged = _get(client, tenants, "/invoices?limit=1&offset=1")
    assert (paged["total"], len(paged["items"]), paged["limit"], paged["offset"]) == (3, 1, 1, 1)
    since = (tenants.clock.today() - dt.timedelta(days=7)).isoformat()
    recent = _get(client, tenants, f"/invoices?from={since}&status=posted")
    assert [i["number"] for i in recent["items"]] == [acme.current.number]
    found = _get(client, tenants, f"/invoices?q={acme.current.number[-4:]}&kind=ar")
    assert [i["id"] for i in found["items"]] == [acme.current.id]


def test_one_invoice_by_id_and_by_number(
    client: TestClient, tenants: Tenants, acme: Finance
) -> None:
    by_id = _get(client, tenants, f"/invoices/{acme.overdue.id}")
    by_number = _get(client, tenants, f"/invoices/by-number/{acme.overdue.number.lower()}")
    assert by_id == by_number
    assert by_id["journal_id"] == acme.overdue.journal_id
    assert by_id["lines"][0]["net_amount"] == "300.00"


def test_bad_filters_are_a_422_envelope(client: TestClient, tenants: Tenants) -> None:
    r = client.get(f"{API}/invoices?kind=xx", headers=tenants.headers("acme", "finance"))
    assert r.status_code == 422
    assert set(r.json()["error"]) == {"code", "message", "details"}


# --- payments -------------------------------------------------------------------------


def test_payments_list_and_detail_show_allocations(
    client: TestClient, tenants: Tenants, acme: Finance
) -> None:
    body = _get(client, tenants, "/payments?kind=receipt")
    assert body["total"] == 1
    receipt = _get(client, tenants, f"/payments/{acme.receipt.id}")
    assert receipt == body["items"][0]
    assert receipt["allocations"] == [
        {"invoice_id": acme.overdue.id, "invoice_number": acme.overdue.number, "amount": "50.00"}
    ]
    assert (receipt["allocated"], receipt["unallocated"], receipt["status"]) == (
        "50.00",
        "0.00",
        "posted",
    )
    assert _get(client, tenants, "/payments?kind=payment")["total"] == 0


# --- ledger ---------------------------------------------------------------------------


def test_accounts_bank_balances_and_trial_balance(
    client: TestClient, tenants: Tenants, acme: Finance
) -> None:
    codes = [a["code"] for a in _get(client, tenants, "/accounts")]
    assert {"1010", "1100", "2000", "4000"} <= set(codes) and codes == sorted(codes)
    [bank] = _get(client, tenants, "/bank-accounts")
    assert (bank["name"], bank["gl_account_code"], bank["balance"]) == ("Main", "1010", "1050.00")
    long_ago = (tenants.clock.today() - dt.timedelta(days=365)).isoformat()
    assert _get(client, tenants, f"/bank-accounts?as_of={long_ago}")[0]["balance"] == "0.00"
    balances = {a["code"]: a["balance"] for a in _get(client, tenants, "/accounts/balances")}
    assert (balances["1100"], balances["4000"], balances["2000"]) == ("350.00", "400.00", "120.00")
    tb = _get(client, tenants, "/reports/trial-balance")
    assert tb["balanced"] is True and tb["total_debit"] == tb["total_credit"]
    assert D(tb["total_debit"]) == sum(D(r["debit"]) for r in tb["rows"])


def test_vouchers_list_and_detail(
    client: TestClient, tenants: Tenants, acme: Finance, session: Session
) -> None:
    assert acme.current.journal_id is not None
    reversal = reverse_journal(
        session, acme.ctx, acme.current.journal_id, on=tenants.clock.today(), memo="test"
    )
    session.commit()
    body = _get(client, tenants, "/journal-vouchers?limit=100")
    assert body["total"] == 6  # opening, 3 documents, receipt, reversal
    detail = _get(client, tenants, f"/journal-vouchers/{acme.current.journal_id}")
    assert detail["reversed_by_id"] == reversal.id
    assert detail["source_type"] == "invoice" and detail["source_id"] == acme.current.id
    assert [(x["account_code"], x["debit"], x["credit"]) for x in detail["lines"]] == [
        ("1100", "100.00", "0.00"),
        ("4000", "0.00", "100.00"),
    ]
    by_source = _get(
        client, tenants, f"/journal-vouchers?source_type=invoice&source_id={acme.current.id}"
    )
    assert {v["id"] for v in by_source["items"]} == {acme.current.journal_id, reversal.id}


# --- access ---------------------------------------------------------------------------


def test_another_companys_records_answer_404_and_lists_stay_apart(
    client: TestClient, tenants: Tenants, acme: Finance, globex: Finance
) -> None:
    for template in ENDPOINTS:
        path = template.format(**globex.ids())
        r = client.get(API + path, headers=tenants.headers("acme", "finance"))
        if "{" in template and "by-number" not in template:
            assert r.status_code == 404, path
            assert r.json()["error"]["code"] == "not_found"
    # The same number exists in both companies: each sees its own.
    mine = _get(client, tenants, f"/invoices/by-number/{acme.overdue.number}")
    assert mine["id"] == acme.overdue.id != globex.overdue.id
    ids = {i["id"] for i in _get(client, tenants, "/invoices?limit=500")["items"]}
    assert globex.overdue.id not in ids and acme.overdue.id in ids
    assert {p["id"] for p in _get(client, tenants, "/payments")["items"]} == {acme.receipt.id}
    assert [b["id"] for b in _get(client, tenants, "/bank-accounts")] == [acme.bank.id]
    vouchers = _get(client, tenants, "/journal-vouchers?limit=500")["items"]
    assert globex.overdue.journal_id not in {v["id"] for v in vouchers}


@pytest.mark.parametrize("role", ["sales", "procurement", "inventory", "viewer", "norole"])
def test_finance_reads_need_finance_read(
    client: TestClient, tenants: Tenants, acme: Finance, role: str
) -> None:
    for template in ENDPOINTS:
        path = API + template.format(**acme.ids())
        r = client.get(path, headers=tenants.headers("acme", role))
        assert r.status_code == 403, (role, path)
        assert r.json()["error"]["details"]["permission"] == "finance.read"


def test_finance_reads_need_credentials(client: TestClient, acme: Finance) -> None:
    for template in ENDPOINTS:
        r = client.get(API + template.format(**acme.ids()))
        assert r.status_code == 401, template


@pytest.mark.parametrize("role", ["executive", "admin"])
def test_executives_and_admins_read_the_books(
    client: TestClient, tenants: Tenants, acme: Finance, role: str
) -> None:
    for template in ENDPOINTS:
        path = template.format(**acme.ids())
        assert _get(client, tenants, path, role) is not None
