"""Dialogue around actions: reorder quantities, corrections, stale proposals, slot answers,
and how-to questions answered from the help pages instead of being carried out."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from handler_chat import Chat, context
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from companion.assistant.actions.models import AiAction
from companion.erp.documents import DocLineIn
from companion.erp.invoicing.models import InvoiceKind
from companion.erp.invoicing.service import create_invoice
from companion.erp.items.models import Item, Warehouse
from companion.erp.parties.models import Customer
from companion.erp.purchasing import repository as po_repo
from companion.erp.stock import repository as stock_repo
from companion.tenancy.context import RequestContext

FAN = "Ceiling Fan 56in"
SUPPLIER = "Penang Sunrise Exports Pvt Ltd"
DEMO_DAY = dt.date(2026, 3, 15)


def _fan(session: Session, ctx: RequestContext) -> Item:
    return session.execute(
        select(Item).where(Item.company_id == ctx.company_id, Item.name == FAN)
    ).scalar_one()


def _warehouse(session: Session, ctx: RequestContext, code: str) -> Warehouse:
    return session.execute(
        select(Warehouse).where(Warehouse.company_id == ctx.company_id, Warehouse.code == code)
    ).scalar_one()


def _shown(client: TestClient, headers: dict[str, str], token: str) -> dict[str, Any]:
    response = client.get(f"/api/v1/ai/actions/{token}", headers=headers)
    assert response.status_code == 200, response.text
    shown: dict[str, Any] = response.json()
    return shown


def _actions_in(session: Session, conversation_id: str | None) -> int:
    session.expire_all()
    return int(
        session.execute(
            select(func.count())
            .select_from(AiAction)
            .where(AiAction.conversation_id == conversation_id)
        ).scalar_one()
    )


def test_an_order_after_a_low_stock_question_takes_the_reorder_quantities(
    chat_client: TestClient, login: Any, demo_session: Session
) -> None:
    ctx = context(demo_session, "buyer")
    low = stock_repo.below_reorder(demo_session, ctx)
    expected = {row.item_id: row.reorder_qty for row in low}
    assert expected and all(qty > 0 for qty in expected.values())

    # Without the question before it, "them" names nothing.
    alone = Chat(chat_client, login("buyer")).say(
        f"raise a purchase order for them from {SUPPLIER}"
    )
    assert alone["pending_confirmation"] is None and "Which products" in alone["message"]

    chat = Chat(chat_client, login("buyer"))
    assert chat.say("which items are below reorder level?")["intent"] == "below_reorder"
    asked = chat.say(f"raise a purchase order for them from {SUPPLIER}")
    assert asked["skill"] == "action" and "Which warehouse" in asked["message"], asked
    assert "Chattogram Port Depot" in (asked["choices"] or [])
    answer = chat.say("Chattogram Port Depot")
    assert answer["pending_confirmation"], (answer["message"], answer["entities"])
    doc = answer["pending_confirmation"]["preview"]["documents"][0]
    got = {int(ln["item_id"]): Decimal(ln["quantity"]) for ln in doc["lines"]}
    assert got == expected
    done = chat.say("yes")
    assert doc["number"] in done["message"], done
    demo_session.expire_all()
    order = po_repo.get_order_by_number(demo_session, ctx, doc["number"])
    assert {ln.item_id: ln.quantity for ln in order.lines} == expected
    assert order.warehouse_id == _warehouse(demo_session, ctx, "CTG").id


def test_corrections_change_the_order_in_progress_not_another_action(
    chat_client: TestClient, login: Any, demo_session: Session
) -> None:
    ctx = context(demo_session, "buyer")
    chat = Chat(chat_client, login("buyer"))
    first = chat.propose(f"raise a purchase order to {SUPPLIER} for 20 {FAN} into Sylhet Depot")
    tokens = [first["pending_confirmation"]["token"]]
    # Each of these reads as a stock adjustment on its own; the buyer may not adjust stock.
    for text, quantity in ((f"make it 4 {FAN}", "4"), (f"change {FAN} to 7", "7")):
        answer = chat.say(text)
        assert answer["skill"] == "action", (text, answer["message"])
        pending = answer["pending_confirmation"]
        assert pending is not None and pending["action"] == "create_purchase_order", text
        lines = pending["preview"]["documents"][0]["lines"]
        assert [Decimal(ln["quantity"]) for ln in lines] == [Decimal(quantity)], text
        tokens.append(pending["token"])
    for old in tokens[:-1]:
        assert _shown(chat_client, chat.headers, old)["status"] == "cancelled"
    doc = pending["preview"]["documents"][0]
    done = chat.say("yes")
    assert doc["number"] in done["message"], done
    demo_session.expire_all()
    order = po_repo.get_order_by_number(demo_session, ctx, doc["number"])
    assert [ln.quantity for ln in order.lines] == [Decimal("7")]
    assert str(order.total) == doc["total"]


def test_a_correction_that_needs_a_question_cancels_the_open_proposal(
    chat_client: TestClient, login: Any, demo_session: Session
) -> None:
    ctx = context(demo_session, "storekeeper")
    fan = _fan(demo_session, ctx)
    sylhet, ctg = _warehouse(demo_session, ctx, "SYL"), _warehouse(demo_session, ctx, "CTG")
    before = {w.id: stock_repo.on_hand(demo_session, ctx, fan.id, w.id) for w in (sylhet, ctg)}
    chat = Chat(chat_client, login("storekeeper"))
    token = chat.propose(f"add 5 {FAN} to Sylhet Depot, found in count")["pending_confirmation"][
        "token"
    ]
    asked = chat.say("no, the other warehouse")
    assert asked["pending_confirmation"] is None and asked["skill"] == "action"
    assert "Sylhet Depot" not in (asked["choices"] or [])
    assert "Chattogram Port Depot" in (asked["choices"] or [])
    stale = _shown(chat_client, chat.headers, token)
    assert (stale["status"], stale["result"]) == ("cancelled", {"reason": "superseded"})

    # "yes" now has nothing to confirm: the old proposal is not executed.
    after_yes = chat.say("yes")
    assert after_yes["pending_confirmation"] is None
    assert after_yes["message"].startswith("There's nothing to confirm yet."), after_yes
    assert "Which warehouse" in after_yes["message"]
    assert _shown(chat_client, chat.headers, token)["status"] == "cancelled"
    confirm = chat_client.post(f"/api/v1/ai/actions/{token}/confirm", headers=chat.headers)
    assert confirm.status_code == 409, confirm.text
    demo_session.expire_all()
    assert stock_repo.on_hand(demo_session, ctx, fan.id, sylhet.id) == before[sylhet.id]

    moved = chat.propose("Chattogram Port Depot")["pending_confirmation"]
    assert moved["preview"]["stock_moves"][0]["warehouse"] == "CTG"
    chat.say("yes")
    demo_session.expire_all()
    assert stock_repo.on_hand(demo_session, ctx, fan.id, ctg.id) == before[ctg.id] + 5
    assert stock_repo.on_hand(demo_session, ctx, fan.id, sylhet.id) == before[sylhet.id]


def test_a_number_answers_the_quantity_question_instead_of_cancelling(
    chat_client: TestClient, login: Any, demo_session: Session
) -> None:
    ctx = context(demo_session, "storekeeper")
    fan, sylhet = _fan(demo_session, ctx), _warehouse(demo_session, ctx, "SYL")
    before = stock_repo.on_hand(demo_session, ctx, fan.id, sylhet.id)
    chat = Chat(chat_client, login("storekeeper"))
    assert "By how many units" in chat.say(f"adjust {FAN} in Sylhet Depot")["message"]
    reason = chat.say("remove 3")
    assert reason["skill"] == "action" and "reason" in reason["message"], reason
    pending = chat.propose("damaged")["pending_confirmation"]
    move = pending["preview"]["stock_moves"][0]
    assert Decimal(move["on_hand_after"]) == before - 3
    chat.say("yes")
    demo_session.expire_all()
    assert stock_repo.on_hand(demo_session, ctx, fan.id, sylhet.id) == before - 3


@pytest.mark.parametrize("word", ["cancel", "no", "stop", "never mind", "forget it"])
def test_explicit_cancel_words_still_drop_the_draft(
    chat_client: TestClient, login: Any, demo_session: Session, word: str
) -> None:
    chat = Chat(chat_client, login("storekeeper"))
    assert "By how many units" in chat.say(f"adjust {FAN} in Sylhet Depot")["message"]
    dropped = chat.say(word)
    assert "dropped" in dropped["message"], (word, dropped)
    # The draft is gone: a number now starts nothing and no proposal was made.
    assert chat.say("yes")["message"] == "There's nothing waiting for your confirmation."
    assert _actions_in(demo_session, chat.conversation_id) == 0


def test_how_to_questions_are_answered_from_the_help_not_carried_out(
    chat_client: TestClient, login: Any, demo_session: Session
) -> None:
    cases = (
        ("finance", "how do I create an invoice?", "How to create and post an invoice"),
        ("finance", "how can I record a payment?", "How to record a payment"),
        ("buyer", "how to approve a PO", "How to approve a purchase order"),
    )
    for user, question, title in cases:
        chat = Chat(chat_client, login(user))
        answer = chat.say(question)
        assert (answer["intent"], answer["skill"]) == ("help", "knowledge"), (question, answer)
        assert answer["pending_confirmation"] is None and answer["choices"] is None
        assert answer["sources"] and answer["sources"][0]["title"] == title, question
        assert "[1]" in answer["message"], question
        assert _actions_in(demo_session, chat.conversation_id) == 0

    # Asked for, not asked about, the same action is still proposed.
    admin = context(demo_session, "admin")
    party = demo_session.execute(
        select(Customer.id).where(
            Customer.company_id == admin.company_id, Customer.name == "Tangail Traders"
        )
    ).scalar_one()
    draft = create_invoice(
        demo_session,
        admin,
        kind=InvoiceKind.AR,
        party_id=party,
        issue_date=DEMO_DAY,
        lines=[DocLineIn(item_id=_fan(demo_session, admin).id, quantity=Decimal("2"))],
    )
    demo_session.flush()
    chat = Chat(chat_client, login("finance"))
    proposed = chat.propose(f"post invoice {draft.number}")
    assert proposed["intent"] == "post_ar_invoice" and proposed["skill"] == "action"
    assert draft.number in proposed["pending_confirmation"]["summary"]
