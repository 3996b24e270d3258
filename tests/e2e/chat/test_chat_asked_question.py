"""The question asked is the one answered: a prediction, a request for what no action does and
an outside figure the documents don't hold are refused saying so, never answered as another
question (a memory listing, another action, loosely related quotes); real memory, action and
policy requests keep their answers. On the demo of each backend through the real chat turn."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

ACTIONS_OFFERED = (
    "The actions I can take for you here are: approve or reject purchase orders, post customer "
    "invoices, record payments and void documents."
)


def ask(client: TestClient, headers: dict[str, str], message: str) -> Any:
    response = client.post("/api/v1/ai/chat", json={"message": message}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def refused(client: TestClient, headers: dict[str, str], message: str) -> str:
    body = ask(client, headers, message)
    assert (body["intent"], body["skill"]) == ("out_of_scope", "dialogue"), body
    assert body["pending_confirmation"] is None and not body["sources"]
    return str(body["message"])


@pytest.mark.parametrize(
    ("question", "said"),
    [
        ("will the price of steel go up next month?", "whether the price of steel will go up"),
        ("is the price of cement going to rise next quarter?", "whether the price of cement"),
    ],
)
def test_a_prediction_is_refused_not_read_as_a_memory(
    chat_client, login, question: str, said: str
) -> None:
    message = refused(chat_client, login("finance"), question)
    assert message.startswith(f"I can't predict {said}")
    assert "remember" not in message


@pytest.mark.parametrize(
    ("question", "said"),
    [
        (
            "please send an email to Dhaka Traders about their overdue invoice",
            "send an email to Dhaka Traders about their overdue invoice",
        ),
        ("call Khulna Emporium about their overdue balance", "call Khulna Emporium about"),
        ("write a letter to Bengal Foods about their payment", "write a letter to Bengal Foods"),
    ],
)
def test_a_request_no_action_does_starts_no_other_action(
    chat_client, login, question: str, said: str
) -> None:
    message = refused(chat_client, login("finance"), question)
    assert message.startswith(f"I can't {said}")
    assert "that isn't something Companion can do" in message
    assert ACTIONS_OFFERED in message


@pytest.mark.parametrize(
    "question",
    ["what is the euro to taka rate today?", "what's the price of gold today?"],
)
def test_an_outside_figure_is_not_answered_with_loose_quotes(
    chat_client, login, question: str
) -> None:
    message = refused(chat_client, login("finance"), question)
    assert message.startswith("I can't look up market prices or exchange rates")


def test_an_outside_figure_read_as_a_data_question_is_refused(chat_client, login) -> None:
    finance = login("finance")
    copper = refused(chat_client, finance, "will copper prices fall next week?")
    assert copper.startswith("I can't predict")
    assert "reorder" not in copper
    dollar = refused(chat_client, finance, "how much is one US dollar in taka right now?")
    assert dollar.startswith("I can't look up market prices or exchange rates")
    assert "BDT" not in dollar  # not the cash balance
    cash = ask(chat_client, finance, "what's our cash balance?")
    assert cash["intent"] == "cash_balance" and cash["skill"] == "data_query"


def test_real_memory_action_and_policy_requests_keep_their_answers(chat_client, login) -> None:
    finance = login("finance")
    kept = ask(chat_client, finance, "remember that our fiscal year starts in July")
    assert kept["skill"] == "memory"
    assert kept["message"] == "I'll remember that: “our fiscal year starts in July”."
    posting = ask(chat_client, finance, "post invoice INV-2026-0042")
    assert posting["intent"] == "post_ar_invoice" and posting["skill"] == "action"
    billing = ask(chat_client, finance, "send a bill to Nova Hospitality")
    assert billing["intent"] == "post_ar_invoice" and billing["skill"] == "action"
    hotel = ask(chat_client, finance, "what is the hotel limit per night in Dhaka?")
    assert hotel["skill"] == "knowledge" and "6,000" in hotel["message"]
    advance = ask(chat_client, finance, "can staff get a salary advance?")
    assert advance["skill"] == "knowledge" and advance["sources"]
