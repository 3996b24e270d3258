"""The actions framework end to end: expiry, second approval, disabled actions, rate limit."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from actions_chat import Talk, member, po_status, submitted_po
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient
from typer.testing import CliRunner

from companion.assistant.actions.models import AiAction
from companion.bootstrap import Container
from companion.config import ActionSettings
from companion.kit.clock import FixedClock
from companion.web.app import create_app
from factories import CHEAP_HASHER

SMALL = "12000"


def _confirm(client: TestClient, headers: dict[str, str], token: str) -> Any:
    return client.post(f"/api/v1/ai/actions/{token}/confirm", headers=headers)


def _propose_in_chat(client: TestClient, headers: dict[str, str], number: str) -> dict[str, Any]:
    answer = Talk(client, headers).say(f"approve {number}")
    assert answer["pending_confirmation"], answer["message"]
    return dict(answer["pending_confirmation"])


def test_an_expired_token_answers_clearly_and_does_nothing(
    chat_client: TestClient, login: Any, demo_session: Session, demo_clock: FixedClock
) -> None:
    order = submitted_po(demo_session, member(demo_session, "buyer"), SMALL)
    headers = login("buyer")
    talk = Talk(chat_client, headers)
    pending = talk.say(f"approve {order.number}")["pending_confirmation"]
    expires = dt.datetime.fromisoformat(pending["expires_at"])
    assert expires == demo_clock.now() + dt.timedelta(seconds=300)
    demo_clock.advance(dt.timedelta(minutes=6))
    shown = chat_client.get(f"/api/v1/ai/actions/{pending['token']}", headers=headers).json()
    assert shown["status"] == "expired"
    response = _confirm(chat_client, headers, pending["token"])
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "expired"
    assert "expired" in response.json()["error"]["message"]
    answer = talk.say("yes")
    assert answer["skill"] == "action" and "expired" in answer["message"]
    assert po_status(demo_session, order) == "pending_approval"
    row = demo_session.execute(
        select(AiAction).where(AiAction.token == pending["token"])
    ).scalar_one()
    demo_session.refresh(row)
    assert row.status == "expired"  # the chat marked it; the sweep would have too


def test_the_sweep_command_expires_what_is_due(demo_settings: Any, monkeypatch: Any) -> None:
    from companion.cli.main import app as cli

    monkeypatch.setenv("COMPANION_DATABASE_URL", demo_settings.database_url)
    monkeypatch.setenv("COMPANION_AUTH__SECRET_KEY", "x" * 40)
    from companion.config import get_settings

    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli, ["actions", "sweep"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert "Expired" in result.output and "confirmation(s)" in result.output


def test_second_approval_above_the_threshold_needs_a_different_user(
    chat_client: TestClient, login: Any, demo_session: Session
) -> None:
    admin = login("admin", "acme")
    put = chat_client.put(
        "/api/v1/ai/actions/settings/approve_purchase_order",
        json={"second_approval_above": "10000"},
        headers=admin,
    )
    assert put.status_code == 200, put.text
    assert put.json() == {
        "action": "approve_purchase_order",
        "disabled": False,
        "second_approval_above": "10000",
    }
    order = submitted_po(demo_session, member(demo_session, "buyer"), SMALL)
    buyer = login("buyer")
    talk = Talk(chat_client, buyer)
    token = talk.say(f"approve {order.number}")["pending_confirmation"]["token"]
    first = talk.say("yes")
    assert "different user" in first["message"]
    assert po_status(demo_session, order) == "pending_approval"
    again = _confirm(chat_client, buyer, token)
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "second_approver_required"
    # Someone without procurement.approve cannot see it.
    assert _confirm(chat_client, login("sales"), token).status_code == 404
    # The CEO may approve purchase orders, but the ERP's level 1 belongs to procurement.
    ceo = login("ceo", "acme")
    listed = chat_client.get("/api/v1/ai/actions", headers=ceo).json()
    assert token in {a["token"] for a in listed["items"]}
    refused = _confirm(chat_client, ceo, token)
    assert refused.status_code == 403
    assert chat_client.get(f"/api/v1/ai/actions/{token}", headers=ceo).json()["status"] == (
        "awaiting_second_approval"
    )
    # The demo has one buyer; a second procurement member gives the second approval.
    _second_buyer(demo_session)
    done = _confirm(chat_client, login("buyer2"), token)
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "executed"
    assert done.json()["action"]["first_confirmed_by"] != done.json()["action"]["executed_by"]
    assert po_status(demo_session, order) == "approved"


def _second_buyer(session: Session) -> None:
    from companion.auth import service as auth_service
    from companion.tenancy.models import Company

    acme = session.execute(select(Company).where(Company.slug == "acme")).scalar_one()
    user = auth_service.create_user(
        session,
        CHEAP_HASHER,
        username="buyer2",
        password="demo-password-2",
        full_name="Second Buyer",
    )
    auth_service.set_membership(session, user.id, acme.id, ["procurement"])
    session.commit()


def test_a_disabled_action_is_explained_and_listed(
    chat_client: TestClient, login: Any, demo_session: Session
) -> None:
    admin = login("admin", "acme")
    assert (
        chat_client.put(
            "/api/v1/ai/actions/settings/reject_purchase_order",
            json={"disabled": True},
            headers=admin,
        ).status_code
        == 200
    )
    settings = {
        s["action"]: s for s in chat_client.get("/api/v1/ai/actions/settings", headers=admin).json()
    }
    assert settings["reject_purchase_order"]["disabled"] is True
    assert settings["approve_purchase_order"]["disabled"] is False
    order = submitted_po(demo_session, member(demo_session, "buyer"), SMALL)
    answer = Talk(chat_client, login("buyer")).say(f"reject {order.number}")
    assert answer["skill"] == "action" and answer["pending_confirmation"] is None
    assert "in the ERP itself" in answer["message"]
    direct = chat_client.post(
        "/api/v1/ai/actions",
        json={"action": "reject_purchase_order", "params": {"document_ref": order.number}},
        headers=login("buyer"),
    )
    assert direct.status_code == 403 and direct.json()["error"]["code"] == "action_disabled"
    # Another company keeps its own setting.
    globex = chat_client.get("/api/v1/ai/actions/settings", headers=login("admin", "globex")).json()
    assert not {s["action"]: s for s in globex}["reject_purchase_order"]["disabled"]
    # Settings are for administrators.
    assert chat_client.get("/api/v1/ai/actions/settings", headers=login("buyer")).status_code == 403


@pytest.fixture
def tight_client(demo_container: Container) -> Iterator[TestClient]:
    """The app with a limit of 2 proposals per minute."""
    tight = ActionSettings(expiry_seconds=300, proposals_per_minute=2, sweep_interval_seconds=0)
    demo_container.settings = demo_container.settings.model_copy(update={"actions": tight})
    assistant = demo_container.assistant()
    assistant._actions = tight
    app: FastAPI = create_app(demo_container)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def test_proposals_are_rate_limited_with_retry_after(
    tight_client: TestClient, login: Any, demo_session: Session, demo_clock: FixedClock
) -> None:
    order = submitted_po(demo_session, member(demo_session, "buyer"), SMALL)
    headers = login("buyer")
    body = {"action": "approve_purchase_order", "params": {"document_ref": order.number}}
    for _ in range(2):
        assert (
            tight_client.post("/api/v1/ai/actions", json=body, headers=headers).status_code == 201
        )
    limited = tight_client.post("/api/v1/ai/actions", json=body, headers=headers)
    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "60"
    assert limited.json()["error"]["code"] == "rate_limited"
    answer = Talk(tight_client, headers).say(f"approve {order.number}")
    assert answer["skill"] == "action" and answer["pending_confirmation"] is None
    assert "limit is 2" in answer["message"] and "wait 60 seconds" in answer["message"]
    demo_clock.advance(dt.timedelta(seconds=61))
    assert tight_client.post("/api/v1/ai/actions", json=body, headers=headers).status_code == 201


def test_a_document_that_moved_on_fails_the_confirmation_and_that_is_kept(
    chat_client: TestClient, login: Any, demo_session: Session
) -> None:
    from companion.erp.purchasing.service import reject_purchase_order

    buyer = member(demo_session, "buyer")
    order = submitted_po(demo_session, buyer, SMALL)
    headers = login("buyer")
    pending = _propose_in_chat(chat_client, headers, order.number)
    # Meanwhile someone rejects it in the ERP itself.
    reject_purchase_order(demo_session, buyer, order.id, comment="decided in the ERP")
    demo_session.commit()
    response = _confirm(chat_client, headers, pending["token"])
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "invalid_state" and error["details"]["status"] == "failed"
    shown = chat_client.get(f"/api/v1/ai/actions/{pending['token']}", headers=headers).json()
    assert shown["status"] == "failed"  # committed despite the error answer
    assert "rejected" in shown["result"]["error"]["message"]
    assert po_status(demo_session, order) == "rejected"
