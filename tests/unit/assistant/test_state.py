"""ConversationState and AnswerMeta read every shape stored so far and write the same back."""

from __future__ import annotations

from typing import Any

import pytest

from companion.assistant.state import (
    ActionDraft,
    AnswerMeta,
    ConversationState,
    Offer,
    OfferedChoice,
    remember_action,
)

PERIOD = {"period": {"start": "2026-10-01", "end": "2026-10-31"}}
RAHMAN = {"customer": {"text": "Rahman", "id": 3, "name": "Rahman Traders"}}
OFFERED = {
    "choices": [
        {"label": "Rahman Traders", "intent": "sales_summary", "entities": RAHMAN},
        {"label": "Rahim Stores", "intent": "sales_summary", "entities": {}},
    ],
    "asked": {"intent": "sales_summary", "entities": PERIOD},
}
ASKING = {
    "name": "adjust_inventory",
    "params": {"product_id": 7},
    "awaiting": "quantity",
    "free_text": False,
    "choices": None,
}
PROPOSED = {"name": "record_payment", "params": {"amount": "500"}, "awaiting": None, "token": "t"}
ANALYTICS = {"query": {"measure": "sales", "by": ["customer"]}, "names": {}, "defaulted": []}

# Each shape a skill writes today (data_query, unapplied, analytics, imports, actions).
STORED: list[dict[str, Any]] = [
    {"intent": "sales_summary", "entities": PERIOD},
    {"intent": "customer_balance", "entities": {}, "awaiting": "customer"},
    {"intent": "sales_summary", "entities": {}, "awaiting": "customer", "offer": OFFERED},
    {"intent": "sales_summary", "entities": PERIOD, "offer": OFFERED},
    {"intent": "analytics", "entities": PERIOD, "analytics": ANALYTICS},
    {"import_id": 12},
    {"action": ASKING},
    {"action": PROPOSED},
    {"action": {**ASKING, "awaiting": "reason", "free_text": True, "choices": ["a", "b"]}},
    {"action": {"name": "void_document", "params": {}, "awaiting": None, "reoffer": True}},
    {"intent": "sales_summary", "entities": PERIOD, "action": ASKING},
    {},
]


@pytest.mark.parametrize("stored", STORED)
def test_every_stored_shape_is_read_and_written_back_the_same(stored: dict[str, Any]) -> None:
    assert ConversationState.from_json(stored).to_json() == stored


def test_the_parts_of_a_stored_state_are_typed() -> None:
    state = ConversationState.from_json(
        {"intent": "sales_summary", "entities": {}, "awaiting": "customer", "offer": OFFERED}
    )
    assert state.intent == "sales_summary" and state.awaiting == "customer"
    assert state.offer == Offer(
        (
            OfferedChoice("Rahman Traders", "sales_summary", RAHMAN),
            OfferedChoice("Rahim Stores", "sales_summary", {}),
        ),
        "sales_summary",
        PERIOD,
    )
    draft = ConversationState.from_json({"action": PROPOSED}).action
    assert draft == ActionDraft("record_payment", {"amount": "500"}, token="t")
    asking = ActionDraft.from_json({**ASKING, "choices": [" Main Store ", "B"]})
    assert asking is not None and asking.offered() == {"main store", "b"}


@pytest.mark.parametrize("stored", [None, [], "x", 3])
def test_nothing_stored_is_an_empty_state(stored: Any) -> None:
    assert ConversationState.from_json(stored) == ConversationState()
    assert ConversationState.from_json(stored).to_json() == {}


def test_unknown_keys_and_broken_parts_do_not_fail() -> None:
    state = ConversationState.from_json(
        {
            "intent": "cash_balance",
            "later_key": [1, 2],
            "offer": {"choices": [{"label": "no intent"}]},
            "entities": "not a dict",
            "import_id": "x",
        }
    )
    assert state.offer is None and state.entities is None and state.import_id is None
    assert state.to_json() == {"intent": "cash_balance", "later_key": [1, 2]}
    assert ConversationState.from_json({"offer": {"choices": []}}).offer is None


def test_an_answer_that_remembers_replaces_the_state_but_keeps_a_draft() -> None:
    before = ConversationState.from_json({"intent": "cash_balance", "action": ASKING})
    after = before.after({"intent": "sales_summary", "entities": PERIOD})
    assert after.to_json() == {"intent": "sales_summary", "entities": PERIOD, "action": ASKING}


def test_the_actions_skill_ends_or_replaces_the_draft() -> None:
    before = ConversationState.from_json({"intent": "cash_balance", "action": ASKING})
    assert before.after(remember_action(None)).to_json() == {}
    drafted = ActionDraft.from_json(PROPOSED)
    assert before.after(remember_action(drafted)).to_json() == {"action": PROPOSED}


def test_an_answer_that_remembers_nothing_withdraws_the_offer_only() -> None:
    before = ConversationState.from_json(
        {"intent": "sales_summary", "entities": {}, "offer": OFFERED, "action": ASKING}
    )
    after = before.after(None)
    assert after.to_json() == {"intent": "sales_summary", "entities": {}, "action": ASKING}


def test_answer_meta_reads_and_writes_extra() -> None:
    extra = {
        "llm": {"use_case": "tool_choice", "tool": "cash_balance"},
        "action_type": "record_payment",
        "action_result": {"status": "proposed", "token": "t"},
        "documents_or_data": "both",
        "permission": "erp.sales.read",
    }
    meta = AnswerMeta.of(extra)
    assert meta.chose_tool == "tool_choice" and meta.action_type == "record_payment"
    assert meta.other == {"permission": "erp.sales.read"}
    assert meta.to_extra() == extra
    assert AnswerMeta.of(None) == AnswerMeta() and AnswerMeta().chose_tool is None
