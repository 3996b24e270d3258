"""The page the user asks from: "approve this PO" on a purchase order's page means that order.

The widget sends ``context.record`` (the document number the page shows) with each message.
It fills in the document only when the message points at it and names none of its own.
"""

from __future__ import annotations

from typing import Any

from actions_chat import member, po_status, submitted_po
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

SMALL = "12000"  # within the buyer's own approval level


def ask(client: TestClient, headers: dict[str, str], message: str, **context: str) -> Any:
    body = {"message": message, "context": {"module": "purchasing", **context}}
    response = client.post("/api/v1/ai/chat", json=body, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def test_approve_this_po_on_its_page_proposes_that_order(
    chat_client: TestClient, login: Any, demo_session: Session
) -> None:
    order = submitted_po(demo_session, member(demo_session, "buyer"), SMALL)
    headers = login("buyer")
    body = ask(
        chat_client,
        headers,
        "approve this PO",
        page="/demo/purchase-orders/1",
        record=order.number,
    )
    assert body["intent"] == "approve_purchase_order", body
    pending = body["pending_confirmation"]
    assert pending["action"] == "approve_purchase_order"
    assert pending["preview"]["documents"][0]["number"] == order.number
    assert body["entities"]["document_ref"]["value"] == order.number
    assert body["entities"]["document_ref"]["source"] == "page"
    assert po_status(demo_session, order) == "pending_approval"  # proposed, not done


def test_the_page_does_not_override_what_the_message_says(
    chat_client: TestClient, login: Any, demo_session: Session
) -> None:
    buyer = member(demo_session, "buyer")
    shown = submitted_po(demo_session, buyer, SMALL)
    named = submitted_po(demo_session, buyer, SMALL)
    headers = login("buyer")
    # Another order named in the message wins over the page's.
    body = ask(chat_client, headers, f"approve {named.number}", record=shown.number)
    assert body["pending_confirmation"]["preview"]["documents"][0]["number"] == named.number
    # No pointing word: the page's order is not assumed; the assistant asks which one.
    asked = ask(chat_client, headers, "approve a purchase order", record=shown.number)
    assert asked["pending_confirmation"] is None
    assert "Which purchase order" in asked["message"]


def test_a_record_that_is_not_a_document_number_is_ignored_or_refused(
    chat_client: TestClient, login: Any
) -> None:
    headers = login("buyer")
    body = ask(chat_client, headers, "approve this PO", record="dashboard")
    assert body["pending_confirmation"] is None
    too_long = chat_client.post(
        "/api/v1/ai/chat",
        json={"message": "approve this PO", "context": {"record": "P" * 65}},
        headers=headers,
    )
    assert too_long.status_code == 422
    assert too_long.json()["error"]["details"]["errors"][0]["loc"] == [
        "body",
        "context",
        "record",
    ]
