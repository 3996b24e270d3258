"""One source of truth for an action: what the API, the sweep or another turn decided ends the
conversation's draft too, so a later "yes" never proposes or executes a copy unasked.

Each sequence is the one the adversarial run found (record a payment, settle the token
elsewhere, then say "yes" in the conversation); every test counts the ledger's receipts.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from handler_chat import Chat, context
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from companion.assistant.actions.models import AiAction
from companion.assistant.actions.sweep import expire_pending
from companion.erp.parties.models import Customer
from companion.erp.payments.models import Payment
from companion.kit.clock import FixedClock

ASK = "record a payment of 659.11 from Tangail Traders into City Bank Current"


def _receipts(session: Session) -> int:
    """Tangail Traders' receipts of 659.11 in the ledger."""
    session.expire_all()
    customer = session.execute(
        select(Customer.id).where(Customer.name == "Tangail Traders")
    ).scalar_one()
    stmt = (
        select(func.count())
        .select_from(Payment)
        .where(Payment.customer_id == customer, Payment.amount == Decimal("659.11"))
    )
    return int(session.execute(stmt).scalar_one())


def _open_proposals(session: Session, conversation_id: str) -> int:
    session.expire_all()
    stmt = (
        select(func.count())
        .select_from(AiAction)
        .where(
            AiAction.conversation_id == conversation_id,
            AiAction.status.in_(("pending", "awaiting_second_approval")),
        )
    )
    return int(session.execute(stmt).scalar_one())


def _proposed(client: TestClient, headers: dict[str, str]) -> tuple[Chat, dict[str, Any]]:
    chat = Chat(client, headers)
    return chat, chat.propose(ASK)["pending_confirmation"]


def test_yes_after_the_api_confirmed_says_it_was_done_and_records_nothing_more(
    chat_client: TestClient, login: Any, demo_session: Session
) -> None:
    before = _receipts(demo_session)
    headers = login("finance")
    chat, pending = _proposed(chat_client, headers)
    done = chat_client.post(f"/api/v1/ai/actions/{pending['token']}/confirm", headers=headers)
    assert done.status_code == 200, done.text
    number = done.json()["document_ref"]
    assert _receipts(demo_session) == before + 1

    answer = chat.say("yes")
    assert answer["pending_confirmation"] is None
    assert "already" in answer["message"] and number in answer["message"]
    assert _open_proposals(demo_session, chat.conversation_id or "") == 0
    again = chat.say("yes")
    assert again["pending_confirmation"] is None
    assert _receipts(demo_session) == before + 1


def test_yes_after_the_api_cancelled_offers_a_new_proposal_and_executes_nothing(
    chat_client: TestClient, login: Any, demo_session: Session
) -> None:
    before = _receipts(demo_session)
    headers = login("finance")
    chat, pending = _proposed(chat_client, headers)
    cancelled = chat_client.post(f"/api/v1/ai/actions/{pending['token']}/cancel", headers=headers)
    assert cancelled.status_code == 200, cancelled.text

    answer = chat.say("yes")
    assert answer["pending_confirmation"] is None
    assert "cancelled" in answer["message"] and "propose it again" in answer["message"]
    assert _receipts(demo_session) == before
    # Only an explicit "yes" to that offer proposes again: a fresh preview, a new token.
    offer = chat.say("yes")
    fresh = offer["pending_confirmation"]
    assert fresh is not None and fresh["token"] != pending["token"]
    assert _receipts(demo_session) == before
    chat.say("yes")
    assert _receipts(demo_session) == before + 1


def test_no_after_the_api_confirmed_says_it_cannot_be_undone_here(
    chat_client: TestClient, login: Any, demo_session: Session
) -> None:
    headers = login("finance")
    chat, pending = _proposed(chat_client, headers)
    assert (
        chat_client.post(
            f"/api/v1/ai/actions/{pending['token']}/confirm", headers=headers
        ).status_code
        == 200
    )
    answer = chat.say("no")
    assert "already" in answer["message"] and "cancelled" not in answer["message"]


def test_yes_after_the_sweep_expired_it_offers_again(
    chat_client: TestClient, login: Any, demo_session: Session, demo_clock: FixedClock
) -> None:
    before = _receipts(demo_session)
    chat, pending = _proposed(chat_client, login("finance"))
    demo_clock.advance(dt.timedelta(minutes=6))
    assert expire_pending(demo_session, demo_clock.now()) >= 1
    demo_session.flush()
    answer = chat.say("yes")
    assert "expired" in answer["message"] and "propose it again" in answer["message"]
    assert answer["pending_confirmation"] is None
    assert _receipts(demo_session) == before


def test_a_question_in_between_is_answered_and_the_settled_draft_stays_settled(
    chat_client: TestClient, login: Any, demo_session: Session
) -> None:
    before = _receipts(demo_session)
    headers = login("finance")
    chat, pending = _proposed(chat_client, headers)
    chat_client.post(f"/api/v1/ai/actions/{pending['token']}/confirm", headers=headers)
    question = chat.say("what is our cash balance?")
    assert question["intent"] == "cash_balance" and question["skill"] == "data_query"
    answer = chat.say("yes")
    assert answer["pending_confirmation"] is None
    assert _receipts(demo_session) == before + 1


def test_a_new_request_after_a_settled_one_is_proposed_normally(
    chat_client: TestClient, login: Any, demo_session: Session
) -> None:
    headers = login("finance")
    chat, pending = _proposed(chat_client, headers)
    chat_client.post(f"/api/v1/ai/actions/{pending['token']}/confirm", headers=headers)
    other = chat.propose("record a payment of 100 from Tangail Traders into City Bank Current")
    fresh = other["pending_confirmation"]
    assert fresh["token"] != pending["token"] and "100" in fresh["summary"]
    assert context(demo_session, "finance").company_slug == "acme"
