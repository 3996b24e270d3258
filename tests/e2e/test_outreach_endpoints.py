"""The outreach API: collection scores and priorities, reminder and follow-up drafts."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from e2e_support import Tenants, make_settings
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from companion.bootstrap import Container
from companion.config import LLMSettings, Settings
from companion.erp.documents import DocLineIn
from companion.erp.invoicing.models import Invoice, InvoiceKind
from companion.erp.invoicing.service import create_invoice, post_invoice
from companion.erp.items.models import Warehouse
from companion.erp.parties.models import Customer
from companion.erp.purchasing.models import POStatus, PurchaseOrder
from companion.erp.purchasing.service import create_purchase_order
from companion.governance.memory.models import MemoryPolicy
from companion.llm import FakeProvider, LLMService, PolicyBook, ProviderRegistry
from finance_factories import make_customer, make_item, make_supplier

API = "/api/v1/ai"
D = Decimal


@pytest.fixture
def settings(engine: Engine) -> Settings:
    """No model: the drafts and rationales are the templates unless a test injects one."""
    return make_settings(
        engine.url.render_as_string(hide_password=False), llm=LLMSettings(provider="none")
    )


@dataclass
class Ledger:
    """One company's customers, invoices and a late purchase order."""

    late: Customer  # two overdue invoices, e-mail on file
    paying: Customer  # one invoice, not yet due
    overdue: list[Invoice]
    order: PurchaseOrder  # approved, nothing received, expected 5 days ago
    future_order: PurchaseOrder  # expected in 10 days


def _ledger(session: Session, tenants: Tenants, slug: str) -> Ledger:
    ctx = tenants.context(slug, "finance")
    buyer = tenants.context(slug, "procurement")
    company = tenants.companies[slug]
    today = tenants.clock.today()
    late = make_customer(session, company, "C1")
    late.email = "ap@c1.example"
    paying = make_customer(session, company, "C2")
    supplier = make_supplier(session, company, "S1")
    supplier.email = "sales@s1.example"
    service = make_item(session, company, "SV", price="100.00", tracked=False)
    session.add(Warehouse(company_id=company.id, code="MAIN", name="Main"))

    def invoice(customer: Customer, days_ago: int, qty: str) -> Invoice:
        draft = create_invoice(
            session,
            ctx,
            kind=InvoiceKind.AR,
            party_id=customer.id,
            issue_date=today - dt.timedelta(days=days_ago),
            lines=[DocLineIn(item_id=service.id, quantity=D(qty))],
        )
        return post_invoice(session, ctx, draft.id)

    overdue = [invoice(late, 70, "3"), invoice(late, 45, "1")]  # due 40 and 15 days ago
    invoice(paying, 5, "2")

    def order(expected_in: int) -> PurchaseOrder:
        po = create_purchase_order(
            session,
            buyer,
            supplier_id=supplier.id,
            order_date=today - dt.timedelta(days=20),
            expected_date=today + dt.timedelta(days=expected_in),
            lines=[DocLineIn(item_id=service.id, quantity=D("5"))],
        )
        po.status = POStatus.APPROVED.value  # approval has its own tests
        return po

    late_order, future_order = order(-5), order(10)
    session.commit()
    return Ledger(late, paying, overdue, late_order, future_order)


@pytest.fixture
def acme(session: Session, tenants: Tenants) -> Ledger:
    return _ledger(session, tenants, "acme")


@pytest.fixture
def globex(session: Session, tenants: Tenants) -> Ledger:
    return _ledger(session, tenants, "globex")


def _score_path(customer_id: int) -> str:
    return f"{API}/customers/{customer_id}/collection-score"


def _error(response: Any) -> dict[str, Any]:
    error: dict[str, Any] = response.json()["error"]
    return error


def test_score_and_ranked_priorities(client: TestClient, tenants: Tenants, acme: Ledger) -> None:
    headers = tenants.headers("acme", "finance")
    r = client.get(_score_path(acme.late.id), headers=headers)
    assert r.status_code == 200, r.text
    score = r.json()
    assert score["customer_id"] == acme.late.id and score["currency"] == "BDT"
    assert score["overdue_amount"] == "400.00" and score["overdue_invoices"] == 2
    assert [f["name"] for f in score["factors"]] == [
        "oldest_days_overdue",
        "weighted_days_overdue",
        "overdue_amount",
        "late_payment_share",
        "average_days_late",
        "credit_limit_use",
    ]
    assert score["factors"][0]["value"] == "40"
    assert sum(f["weight"] for f in score["factors"]) == 100
    assert score["rationale_by"] == "template" and score["reason"] == "policy_off"

    r = client.get(f"{API}/collection-priorities", headers=headers)
    assert r.status_code == 200, r.text
    page = r.json()
    assert page["total"] == 2 and page["limit"] == 50 and page["offset"] == 0
    assert [i["customer_id"] for i in page["items"]] == [acme.late.id, acme.paying.id]
    assert page["items"][0]["score"] == score["score"] and page["items"][0]["rank"] == 1
    r = client.get(f"{API}/collection-priorities?limit=1&offset=1", headers=headers)
    assert [(i["rank"], i["customer_id"]) for i in r.json()["items"]] == [(2, acme.paying.id)]


def test_payment_reminder_template_draft(
    client: TestClient, tenants: Tenants, acme: Ledger
) -> None:
    r = client.post(
        f"{API}/drafts/payment-reminder",
        json={"customer_id": acme.late.id},
        headers=tenants.headers("acme", "finance"),
    )
    assert r.status_code == 200, r.text
    draft = r.json()
    assert draft["kind"] == "payment_reminder" and draft["sent"] is False
    assert draft["drafted_by"] == "template" and draft["reason"] == "policy_off"
    assert draft["recipients"] == [{"name": "Customer C1", "email": "ap@c1.example"}]
    assert draft["total"] == "400.00" and draft["currency"] == "BDT"
    assert [d["number"] for d in draft["documents"]] == [i.number for i in acme.overdue]
    assert all(i.number in draft["body"] for i in acme.overdue)
    assert "Total overdue: BDT 400.00" in draft["body"]


def test_payment_reminder_drafted_by_a_model(
    client: TestClient, tenants: Tenants, acme: Ledger, container: Container
) -> None:
    first, second = (i.number for i in acme.overdue)
    fake = FakeProvider(
        [
            json.dumps(
                {
                    "subject": f"Reminder: {first}, {second}",
                    "body": f"Invoices {first} (BDT 300.00) and {second} (BDT 100.00) are "
                    "overdue, BDT 400.00 in all.",
                    "recipients": ["mallory@evil.example"],
                }
            )
        ]
    )
    container._llm = LLMService(ProviderRegistry({"default": lambda: fake}), PolicyBook.load())
    r = client.post(
        f"{API}/drafts/payment-reminder",
        json={"customer_id": acme.late.id},
        headers=tenants.headers("acme", "finance"),
    )
    assert r.status_code == 200, r.text
    draft = r.json()
    assert draft["drafted_by"] == "model" and draft["reason"] == "generated"
    assert draft["subject"] == f"Reminder: {first}, {second}"
    assert draft["recipients"] == [{"name": "Customer C1", "email": "ap@c1.example"}]
    assert draft["sent"] is False


def _model_drafts(container: Container, reply: str, *, external: bool) -> FakeProvider:
    """The drafts' model: a fake provider, marked external or not."""
    fake = FakeProvider([reply])
    llm = LLMService(ProviderRegistry({"default": lambda: fake}), PolicyBook.load())
    llm.external = frozenset({"default"} if external else ())
    container._llm = llm
    return fake


def _reminder_reply(acme: Ledger) -> str:
    first, second = (i.number for i in acme.overdue)
    body = (
        f"Invoices {first} (BDT 300.00) and {second} (BDT 100.00) are overdue, BDT 400.00 in all."
    )
    return json.dumps({"subject": f"Reminder: {first}, {second}", "body": body})


def _compliance_mode(session: Session, tenants: Tenants) -> None:
    company_id = tenants.companies["acme"].id
    session.add(MemoryPolicy(company_id=company_id, pii_scrubbing=True, compliance_mode=True))
    session.commit()


def _policy_reads(engine: Engine, run: Any) -> int:
    """How many statements ``run()`` sends that read the memory policy."""
    reads: list[str] = []

    def note(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "memory_policies" in statement:
            reads.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    try:
        run()
    finally:
        event.remove(engine, "before_cursor_execute", note)
    return len(reads)


def test_a_model_endpoint_without_an_external_provider_reads_no_memory_policy(
    client: TestClient,
    tenants: Tenants,
    acme: Ledger,
    container: Container,
    session: Session,
    engine: Engine,
) -> None:
    """The policy is read only when a provider marked external is about to be used: a local
    model drafts even in compliance mode, and neither it nor "no model" asks."""
    _compliance_mode(session, tenants)
    headers = tenants.headers("acme", "finance")
    answers: list[Any] = []

    def score_and_draft() -> None:
        answers.append(client.get(_score_path(acme.late.id), headers=headers))
        fake = _model_drafts(container, _reminder_reply(acme), external=False)
        body = {"customer_id": acme.late.id}
        answers.append(client.post(f"{API}/drafts/payment-reminder", json=body, headers=headers))
        assert len(fake.calls) == 1

    assert _policy_reads(engine, score_and_draft) == 0
    score, draft = answers
    assert score.status_code == 200 and score.json()["rationale_by"] == "template", score.text
    assert draft.status_code == 200 and draft.json()["drafted_by"] == "model", draft.text


@pytest.mark.parametrize("compliance", [True, False])
def test_compliance_mode_keeps_a_draft_from_an_external_provider(
    client: TestClient,
    tenants: Tenants,
    acme: Ledger,
    container: Container,
    session: Session,
    engine: Engine,
    compliance: bool,
) -> None:
    if compliance:
        _compliance_mode(session, tenants)
    fake = _model_drafts(container, _reminder_reply(acme), external=True)
    answers: list[Any] = []

    def draft() -> None:
        answers.append(
            client.post(
                f"{API}/drafts/payment-reminder",
                json={"customer_id": acme.late.id},
                headers=tenants.headers("acme", "finance"),
            )
        )

    assert _policy_reads(engine, draft) == 1  # asked once, as the external provider comes up
    r = answers[0]
    assert r.status_code == 200, r.text
    if compliance:
        assert (r.json()["drafted_by"], r.json()["reason"]) == ("template", "provider_failed")
        assert fake.calls == []  # nothing reached the provider
    else:
        assert (r.json()["drafted_by"], r.json()["reason"]) == ("model", "generated")
        assert len(fake.calls) == 1


def test_supplier_follow_up_by_number_or_id(
    client: TestClient, tenants: Tenants, acme: Ledger
) -> None:
    headers = tenants.headers("acme", "procurement")
    for ref in (acme.order.number, acme.order.id):
        r = client.post(
            f"{API}/drafts/supplier-follow-up", json={"purchase_order": ref}, headers=headers
        )
        assert r.status_code == 200, r.text
        draft = r.json()
        assert draft["kind"] == "supplier_follow_up" and draft["sent"] is False
        assert draft["recipients"] == [{"name": "Supplier S1", "email": "sales@s1.example"}]
        assert acme.order.number in draft["subject"] and "5 days late" in draft["body"]


def test_nothing_overdue_and_not_late_are_409(
    client: TestClient, tenants: Tenants, acme: Ledger
) -> None:
    r = client.post(
        f"{API}/drafts/payment-reminder",
        json={"customer_id": acme.paying.id},
        headers=tenants.headers("acme", "finance"),
    )
    assert r.status_code == 409 and _error(r)["code"] == "nothing_overdue"
    r = client.post(
        f"{API}/drafts/supplier-follow-up",
        json={"purchase_order": acme.future_order.number},
        headers=tenants.headers("acme", "procurement"),
    )
    assert r.status_code == 409 and _error(r)["code"] == "purchase_order_not_late"
    assert _error(r)["details"]["number"] == acme.future_order.number
    # A score for a customer with nothing overdue is a score, not an error.
    r = client.get(_score_path(acme.paying.id), headers=tenants.headers("acme", "finance"))
    assert r.status_code == 200 and r.json()["band"] == "low"


@pytest.mark.parametrize("role", ["viewer", "sales", "norole"])
def test_scores_and_reminders_refuse_callers_without_finance_read(
    client: TestClient, tenants: Tenants, acme: Ledger, role: str
) -> None:
    headers = tenants.headers("acme", role)
    for response in (
        client.get(_score_path(acme.late.id), headers=headers),
        client.get(f"{API}/collection-priorities", headers=headers),
        client.post(
            f"{API}/drafts/payment-reminder", json={"customer_id": acme.late.id}, headers=headers
        ),
    ):
        assert response.status_code == 403, response.text
        assert _error(response)["details"]["permission"] in {"finance.read", "ai.use"}


@pytest.mark.parametrize("role", ["viewer", "sales"])
def test_follow_up_refuses_callers_without_procurement_read(
    client: TestClient, tenants: Tenants, acme: Ledger, role: str
) -> None:
    r = client.post(
        f"{API}/drafts/supplier-follow-up",
        json={"purchase_order": acme.order.number},
        headers=tenants.headers("acme", role),
    )
    assert r.status_code == 403 and _error(r)["details"]["permission"] == "procurement.read"


def test_another_companys_records_are_404(
    client: TestClient, tenants: Tenants, acme: Ledger, globex: Ledger
) -> None:
    finance = tenants.headers("acme", "finance")
    r = client.get(_score_path(globex.late.id), headers=finance)
    assert r.status_code == 404 and _error(r)["code"] == "not_found"
    r = client.post(
        f"{API}/drafts/payment-reminder", json={"customer_id": globex.late.id}, headers=finance
    )
    assert r.status_code == 404 and "QX" not in r.text
    r = client.post(
        f"{API}/drafts/supplier-follow-up",
        json={"purchase_order": globex.order.id},
        headers=tenants.headers("acme", "procurement"),
    )
    assert r.status_code == 404
    # globex's list shows only globex's customers.
    r = client.get(f"{API}/collection-priorities", headers=tenants.headers("globex", "finance"))
    assert {i["customer_id"] for i in r.json()["items"]} == {globex.late.id, globex.paying.id}


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("payment-reminder", {}),
        ("payment-reminder", {"customer_id": "abc"}),
        ("payment-reminder", {"customer_id": 0}),
        ("payment-reminder", {"customer_id": 2**31}),
        ("payment-reminder", {"customer_id": 1, "to": "x@example.com"}),
        ("supplier-follow-up", {}),
        ("supplier-follow-up", {"purchase_order": ""}),
        ("supplier-follow-up", {"purchase_order": "P" * 40}),
        ("supplier-follow-up", {"purchase_order": -3}),
    ],
)
def test_bad_input_is_422(
    client: TestClient, tenants: Tenants, path: str, body: dict[str, Any]
) -> None:
    r = client.post(f"{API}/drafts/{path}", json=body, headers=tenants.headers("acme", "admin"))
    assert r.status_code == 422, r.text


def test_bad_ids_and_pages_are_422(client: TestClient, tenants: Tenants) -> None:
    headers = tenants.headers("acme", "finance")
    assert client.get(_score_path(0), headers=headers).status_code == 422
    assert client.get(f"{API}/customers/x/collection-score", headers=headers).status_code == 422
    r = client.get(f"{API}/collection-priorities?limit=0", headers=headers)
    assert r.status_code == 422
