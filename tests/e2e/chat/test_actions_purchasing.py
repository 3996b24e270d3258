"""Approving and rejecting purchase orders through chat and through the actions endpoints."""

from __future__ import annotations

from typing import Any

from actions_chat import Talk, member, po_status, submitted_po
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from companion.audit.models import AuditEntry
from companion.audit.service import verify
from companion.erp.purchasing.models import ApprovalTask
from companion.kit.money import format_money

SMALL = "12000"  # below the demo's finance level (BDT 250,000): the buyer's level only
LARGE = "300000"  # needs procurement, then finance


def _confirm(client: TestClient, headers: dict[str, str], token: str) -> Any:
    return client.post(f"/api/v1/ai/actions/{token}/confirm", headers=headers)


def test_approve_through_chat_preview_yes_approved(
    chat_client: TestClient, login: Any, demo_session: Session
) -> None:
    order = submitted_po(demo_session, member(demo_session, "buyer"), SMALL)
    talk = Talk(chat_client, login("buyer"))
    proposed = talk.say(f"approve {order.number}")
    assert proposed["intent"] == "approve_purchase_order"
    assert proposed["skill"] == "action"
    pending = proposed["pending_confirmation"]
    assert pending["action"] == "approve_purchase_order"
    assert pending["summary"].startswith(f"Approve {order.number} (")
    total = format_money(order.total, "BDT", "en_IN")
    assert total in pending["summary"] and "level 1 of 1" in pending["summary"]
    document = pending["preview"]["documents"][0]
    assert document["number"] == order.number
    assert (document["status_before"], document["status_after"]) == (
        "pending_approval",
        "approved",
    )
    assert "Shall I go ahead?" in proposed["message"]
    assert po_status(demo_session, order) == "pending_approval"  # nothing written yet

    done = talk.say("yes")
    assert done["skill"] == "action"
    assert done["pending_confirmation"] is None
    assert order.number in done["message"] and "Approved" in done["message"]
    assert po_status(demo_session, order) == "approved"

    detail = chat_client.get(
        f"/api/v1/ai/conversations/{talk.conversation_id}", headers=talk.headers
    ).json()
    reply = detail["messages"][-1]
    entry = demo_session.execute(
        select(AuditEntry).where(
            AuditEntry.action == "ai.action.executed", AuditEntry.entity_id == pending["token"]
        )
    ).scalar_one()
    assert entry.via_ai and entry.conversation_message_id == reply["id"]
    erp_entry = (
        demo_session.execute(
            select(AuditEntry)
            .where(AuditEntry.action == "purchase_order.approve")
            .order_by(AuditEntry.id.desc())
        )
        .scalars()
        .first()
    )
    assert erp_entry is not None and erp_entry.via_ai
    assert erp_entry.conversation_message_id == reply["id"]
    assert verify(demo_session).ok

    listed = chat_client.get("/api/v1/ai/actions", headers=talk.headers).json()
    mine = {a["token"]: a for a in listed["items"]}
    assert mine[pending["token"]]["status"] == "executed"
    assert mine[pending["token"]]["result"]["document_ref"] == order.number
    # Saying yes again: nothing is pending any more.
    again = talk.say("yes")
    assert again["skill"] == "dialogue" and "nothing" in again["message"].lower()


def test_approve_through_the_endpoint_executes_once(
    chat_client: TestClient, login: Any, demo_session: Session
) -> None:
    order = submitted_po(demo_session, member(demo_session, "buyer"), SMALL)
    headers = login("buyer")
    token = Talk(chat_client, headers).say(f"approve {order.number}")["pending_confirmation"][
        "token"
    ]
    shown = chat_client.get(f"/api/v1/ai/actions/{token}", headers=headers)
    assert shown.status_code == 200 and shown.json()["status"] == "pending"

    first = _confirm(chat_client, headers, token)
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["status"] == "executed" and body["document_ref"] == order.number
    assert "Approved" in body["message"]
    assert po_status(demo_session, order) == "approved"

    second = _confirm(chat_client, headers, token)
    assert second.status_code == 409
    error = second.json()["error"]
    assert error["code"] == "already_decided"
    assert error["details"]["result"] == body["result"]
    cancel = chat_client.post(f"/api/v1/ai/actions/{token}/cancel", headers=headers)
    assert cancel.status_code == 409


def test_direct_proposal_through_the_endpoint_then_confirm(
    chat_client: TestClient, login: Any, demo_session: Session
) -> None:
    order = submitted_po(demo_session, member(demo_session, "buyer"), SMALL)
    headers = login("buyer")
    proposed = chat_client.post(
        "/api/v1/ai/actions",
        json={
            "action": "reject_purchase_order",
            "params": {"document_ref": order.number, "comment": "Prices too high"},
        },
        headers=headers,
    )
    assert proposed.status_code == 201, proposed.text
    token = proposed.json()["token"]
    assert proposed.json()["summary"].endswith("reason: Prices too high")
    done = _confirm(chat_client, headers, token)
    assert done.status_code == 200 and done.json()["status"] == "executed"
    assert po_status(demo_session, order) == "rejected"
    task = demo_session.execute(
        select(ApprovalTask).where(ApprovalTask.order_id == order.id)
    ).scalar_one()
    assert task.comment == "Prices too high"
    unknown = chat_client.post(
        "/api/v1/ai/actions", json={"action": "launch_rocket", "params": {}}, headers=headers
    )
    assert unknown.status_code == 404


def test_reject_with_a_reason_cancel_then_confirm(
    chat_client: TestClient, login: Any, demo_session: Session
) -> None:
    order = submitted_po(demo_session, member(demo_session, "buyer"), SMALL)
    talk = Talk(chat_client, login("buyer"))
    first = talk.say(f"reject {order.number} because the price is too high")
    assert first["intent"] == "reject_purchase_order"
    assert first["pending_confirmation"]["summary"].endswith("reason: the price is too high")
    cancelled = talk.say("no")
    assert cancelled["skill"] == "action" and "Cancelled" in cancelled["message"]
    assert po_status(demo_session, order) == "pending_approval"
    token = first["pending_confirmation"]["token"]
    assert (
        chat_client.get(f"/api/v1/ai/actions/{token}", headers=talk.headers).json()["status"]
        == "cancelled"
    )

    talk.say(f"reject {order.number} because the price is too high")
    done = talk.say("go ahead")
    assert "Rejected" in done["message"]
    assert po_status(demo_session, order) == "rejected"


def test_missing_order_is_asked_for_with_choices(
    chat_client: TestClient, login: Any, demo_session: Session
) -> None:
    order = submitted_po(demo_session, member(demo_session, "buyer"), SMALL)
    talk = Talk(chat_client, login("buyer"))
    asked = talk.say("approve a purchase order")
    assert asked["skill"] == "action" and asked["pending_confirmation"] is None
    assert "Which purchase order" in asked["message"]
    assert order.number in (asked["choices"] or [])
    proposed = talk.say(order.number)
    assert proposed["pending_confirmation"]["action"] == "approve_purchase_order"
    assert order.number in proposed["pending_confirmation"]["summary"]
    done = talk.say("proceed")
    assert "Approved" in done["message"] and po_status(demo_session, order) == "approved"


def test_a_correction_replaces_the_pending_proposal(
    chat_client: TestClient, login: Any, demo_session: Session
) -> None:
    buyer = member(demo_session, "buyer")
    first_po, second_po = (
        submitted_po(demo_session, buyer, SMALL),
        submitted_po(demo_session, buyer, SMALL),
    )
    talk = Talk(chat_client, login("buyer"))
    first = talk.say(f"approve {first_po.number}")
    corrected = talk.say(f"no, I meant {second_po.number}")
    assert corrected["skill"] == "action"
    assert second_po.number in corrected["pending_confirmation"]["summary"]
    old = chat_client.get(
        f"/api/v1/ai/actions/{first['pending_confirmation']['token']}", headers=talk.headers
    ).json()
    assert old["status"] == "cancelled"
    talk.say("yes")
    assert po_status(demo_session, second_po) == "approved"
    assert po_status(demo_session, first_po) == "pending_approval"


def test_without_the_permission_the_answer_names_the_role(
    chat_client: TestClient, login: Any, demo_session: Session
) -> None:
    order = submitted_po(demo_session, member(demo_session, "buyer"), SMALL)
    answer = Talk(chat_client, login("sales")).say(f"approve {order.number}")
    assert answer["skill"] == "denied"
    assert "procurement.approve" in answer["message"] and "procurement" in answer["message"]
    assert answer["pending_confirmation"] is None
    assert po_status(demo_session, order) == "pending_approval"


def test_an_order_not_at_the_users_level_is_refused(
    chat_client: TestClient, login: Any, demo_session: Session
) -> None:
    order = submitted_po(demo_session, member(demo_session, "buyer"), LARGE)
    answer = Talk(chat_client, login("finance")).say(f"approve {order.number}")
    assert answer["skill"] == "denied"
    assert "level 1" in answer["message"] and "procurement" in answer["message"]
    assert answer["pending_confirmation"] is None
    # The buyer's level-1 approval leaves it waiting for finance: no level is skipped.
    talk = Talk(chat_client, login("buyer"))
    assert "level 1 of 2" in talk.say(f"approve {order.number}")["pending_confirmation"]["summary"]
    assert "level 2" in talk.say("yes")["message"]
    assert po_status(demo_session, order) == "pending_approval"
    finance = Talk(chat_client, login("finance"))
    assert (
        "level 2 of 2" in finance.say(f"approve {order.number}")["pending_confirmation"]["summary"]
    )
    finance.say("yes")
    assert po_status(demo_session, order) == "approved"


def test_unknown_and_other_company_orders_are_not_found(
    chat_client: TestClient, login: Any, demo_session: Session
) -> None:
    answer = Talk(chat_client, login("buyer")).say("approve PO-2026-9999")
    assert answer["skill"] == "action" and answer["pending_confirmation"] is None
    assert "PO-2026-9999 not found" in answer["message"]
    globex = submitted_po(demo_session, member(demo_session, "admin", "globex"), SMALL)
    response = chat_client.post(
        "/api/v1/ai/actions",
        json={"action": "approve_purchase_order", "params": {"order_id": globex.id}},
        headers=login("buyer"),
    )
    # Only the number the user gave counts; an id in the parameters is not a way in.
    assert response.status_code in (400, 404), response.text
    assert po_status(demo_session, globex) == "pending_approval"


def test_another_users_or_companys_token_is_404(
    chat_client: TestClient, login: Any, demo_session: Session
) -> None:
    order = submitted_po(demo_session, member(demo_session, "buyer"), SMALL)
    token = Talk(chat_client, login("buyer")).say(f"approve {order.number}")[
        "pending_confirmation"
    ]["token"]
    for headers in (login("finance"), login("admin", "globex"), login("admin", "acme")):
        assert chat_client.get(f"/api/v1/ai/actions/{token}", headers=headers).status_code == 404
        assert _confirm(chat_client, headers, token).status_code == 404
        cancel = chat_client.post(f"/api/v1/ai/actions/{token}/cancel", headers=headers)
        assert cancel.status_code == 404
        listed = chat_client.get("/api/v1/ai/actions", headers=headers).json()
        assert token not in {a["token"] for a in listed["items"]}
    assert po_status(demo_session, order) == "pending_approval"
