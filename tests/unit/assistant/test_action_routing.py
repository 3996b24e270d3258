"""Which turns the actions skill takes while an action is being drafted."""

from __future__ import annotations

import dataclasses
from typing import Any, cast

import pytest
from sqlalchemy.orm import Session

from companion.assistant.skills.actions import (
    _BARE_CANCEL,
    _KEEPS_ACTION,
    _cancels,
    asks_how_to,
    claims,
)
from companion.assistant.state import ActionDraft, ConversationState
from companion.tenancy.context import RequestContext

NO_DB = cast(Session, None)  # with no conversation id the routing never reads the database
CTX = cast(RequestContext, None)
DRAFT = {"action": {"name": "approve_purchase_order", "params": {}, "awaiting": "document_ref"}}


def _claims(state: dict[str, Any] | None, intent: str, confidence: float, **kw: Any) -> bool:
    return claims(
        NO_DB,
        CTX,
        None,
        ConversationState.from_json(state),  # the state as the conversation stores it
        intent=intent,
        confidence=confidence,
        entities=kw.get("entities", {}),
        text=kw.get("text", "x"),
    )


def test_action_intents_always_go_to_the_actions_skill() -> None:
    assert _claims(None, "approve_purchase_order", 0.99)


def test_without_a_draft_other_turns_are_left_alone() -> None:
    assert not _claims(None, "confirm", 0.99, text="yes")
    assert not _claims({"intent": "cash_balance"}, "cash_balance", 0.9)


def test_a_draft_takes_its_slot_answer_and_corrections() -> None:
    ref = {"document_ref": {"value": "PO-2026-0003"}}
    assert _claims(DRAFT, "purchase_orders", 0.95, entities=ref, text="PO-2026-0003")
    assert _claims(DRAFT, "out_of_scope", 0.3, text="the second one")
    assert _claims(DRAFT, "sales_summary", 0.9, text="no, I meant PO-2026-0004")
    assert _claims(DRAFT, "cancel", 0.99, text="cancel")


def test_a_confident_new_question_leaves_the_draft() -> None:
    assert not _claims(DRAFT, "cash_balance", 0.95, text="what's our cash balance?")


@pytest.mark.parametrize("text", ["no", "No.", "cancel", "cancel it", "stop", "nope", "forget it"])
def test_bare_refusals_cancel(text: str) -> None:
    assert _BARE_CANCEL.match(text)


@pytest.mark.parametrize("text", ["no, the other warehouse", "no I meant PO-2026-0004"])
def test_refusals_with_more_are_corrections(text: str) -> None:
    assert not _BARE_CANCEL.match(text)


ASKING_QUANTITY = ActionDraft("adjust_inventory", {}, awaiting="quantity")
ASKING_SIGN = ActionDraft("adjust_inventory", {}, awaiting="sign", choices=("add 3", "remove 3"))


@pytest.mark.parametrize("text", ["remove 3", "3", "take out three", "no, 3", "make it 4"])
def test_a_number_answers_a_quantity_question_rather_than_cancelling(text: str) -> None:
    assert not _cancels(text, ASKING_QUANTITY, None)


@pytest.mark.parametrize(
    "text", ["cancel", "no", "stop", "never mind", "forget it", "cancel 3", "stop, remove 3"]
)
def test_explicit_cancel_words_cancel_even_with_a_number(text: str) -> None:
    assert _cancels(text, ASKING_QUANTITY, None)


def test_an_offered_choice_answers_and_a_refusal_without_an_answer_cancels() -> None:
    assert not _cancels("remove 3", ASKING_SIGN, None)
    assert _cancels("drop it", ASKING_QUANTITY, None)
    assert _cancels("drop it", dataclasses.replace(ASKING_QUANTITY, awaiting=None), None)


@pytest.mark.parametrize(
    "text",
    [
        "make it 4 Ceiling Fan 56in",
        "change Ceiling Fan 56in to 4",
        "Change the quantity to 6",
        "no, the other warehouse",
        "the other one",
        "6 instead",
        "actually 8",
        "sorry, I meant PO-2026-0004",
    ],
)
def test_corrections_keep_the_action_in_progress(text: str) -> None:
    assert _KEEPS_ACTION.search(text)
    assert _claims(DRAFT, "stock_levels", 0.95, text=text)


@pytest.mark.parametrize(
    "text", ["add 5 fans to Sylhet", "approve PO-2026-0004", "change of plans: approve PO-1"]
)
def test_new_requests_are_not_corrections(text: str) -> None:
    assert not _KEEPS_ACTION.search(text)


@pytest.mark.parametrize(
    "text",
    [
        "how do I create an invoice?",
        "How can I record a payment?",
        "how to approve a PO",
        "what are the steps to create a sales order?",
        "so how do we void an invoice",
        "can you show me how to adjust stock",
        "I want to know how invoices are posted",
    ],
)
def test_how_to_questions_about_actions_are_recognised(text: str) -> None:
    assert asks_how_to(text, "post_ar_invoice")


@pytest.mark.parametrize(
    "text",
    [
        "create an invoice for Rahman Traders",
        "approve PO-2026-0042",
        "record a payment of 5,000 from Rahman Traders",
        "show me how much we owe",
    ],
)
def test_requests_for_an_action_are_not_how_to_questions(text: str) -> None:
    assert not asks_how_to(text, "post_ar_invoice")


def test_how_to_only_applies_to_action_intents() -> None:
    assert not asks_how_to("how do I see overdue invoices?", "overdue_invoices")
