"""Questions about one document by its number: the status of an order or an invoice."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from companion.erp.invoicing.models import Invoice
from companion.erp.purchasing.models import PurchaseOrder
from companion.tenancy.models import Company


def acme_id(session: Session) -> int:
    return int(session.scalars(select(Company.id).where(Company.slug == "acme")).one())


def ask(client: TestClient, headers: dict[str, str], message: str) -> Any:
    response = client.post("/api/v1/ai/chat", json={"message": message}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def test_the_status_of_a_purchase_order_by_number(
    chat_client: TestClient, login: Any, demo_session: Session
) -> None:
    order = demo_session.scalars(
        select(PurchaseOrder)
        .where(PurchaseOrder.company_id == acme_id(demo_session))
        .order_by(PurchaseOrder.id)
    ).first()
    assert order is not None
    for message in (f"status of {order.number}", f"{order.number}", f"where is {order.number}?"):
        body = ask(chat_client, login("ceo", "acme"), message)
        # Read as a list of orders by the classifier, answered about the one order named.
        assert body["intent"] == "order_status", (message, body["intent"])
        assert body["message"].startswith(order.number), body["message"]
        assert [row[0] for row in body["data"]["rows"]] == [order.number]


def test_whether_an_invoice_is_paid_by_number(
    chat_client: TestClient, login: Any, demo_session: Session
) -> None:
    invoice = demo_session.scalars(
        select(Invoice).where(Invoice.company_id == acme_id(demo_session)).order_by(Invoice.id)
    ).first()
    assert invoice is not None
    body = ask(chat_client, login("finance"), f"has {invoice.number} been paid?")
    assert body["intent"] == "invoice_status"
    assert body["message"].startswith(invoice.number), body["message"]
    assert "is not an invoice" not in body["message"]


def test_an_amount_range_filters_the_overdue_invoices(chat_client: TestClient, login: Any) -> None:
    everything = ask(chat_client, login("finance"), "which invoices are overdue?")
    open_column = everything["data"]["columns"].index("open")
    amounts = sorted(row[open_column] for row in everything["data"]["rows"])
    assert len(amounts) >= 4, "the demo needs a few overdue invoices"
    floor = amounts[len(amounts) // 2]
    body = ask(chat_client, login("finance"), f"overdue invoices over {floor:.2f}")
    assert body["entities"]["amount_range"]["min"] is not None
    rows = body["data"]["rows"]
    assert 0 < len(rows) < len(amounts)
    assert all(row[open_column] >= floor for row in rows)
