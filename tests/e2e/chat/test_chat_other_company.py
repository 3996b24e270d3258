"""A question naming another company than the one the user works in is said, not answered
with the active company's figures ("what's Acme's cash balance?" asked in Globex got Globex's
cash). On the demo of each backend, through the chat API."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient


def ask(client: TestClient, headers: dict[str, str], message: str) -> Any:
    response = client.post("/api/v1/ai/chat", json={"message": message}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize(
    "message",
    [
        "what's Acme's cash balance?",
        "how much did acme sell last month?",
        "show me Acme Trading Ltd's overdue invoices",
        "what is Acme's travel policy?",
    ],
)
def test_another_company_named_by_a_non_member_gets_no_figures(
    chat_client, login, message: str
) -> None:
    body = ask(chat_client, login("gfinance"), message)  # gfinance: Globex only
    said = body["message"]
    assert body["data"] is None and not body.get("sources"), said
    assert body["skill"] == "clarify", said
    assert said.startswith("I answer only with the records of Globex Manufacturing Inc"), said
    assert "USD" not in said and "BDT" not in said
    assert "Acme" not in said  # whether it exists is not said to someone outside it


def test_a_member_of_both_is_told_to_switch(chat_client, login) -> None:
    body = ask(chat_client, login("ceo", "globex"), "what's Acme's cash balance?")
    said = body["message"]
    assert body["data"] is None, said
    assert said.startswith("You're working in Globex Manufacturing Inc"), said
    assert "switch to it" in said and "Acme Trading Ltd" in said


def test_the_active_company_named_is_answered(chat_client, login) -> None:
    named = ask(chat_client, login("gfinance"), "what's Globex's cash balance?")
    plain = ask(chat_client, login("gfinance"), "what's our cash balance?")
    assert named["intent"] == plain["intent"] == "cash_balance", named["message"]
    assert named["data"] is not None and named["data"]["totals"] == plain["data"]["totals"]
    assert "USD" in named["message"]


def test_a_follow_up_to_another_company_is_said_too(chat_client, login) -> None:
    headers = login("ceo", "acme")
    first = ask(chat_client, headers, "what's our cash balance?")
    assert first["intent"] == "cash_balance" and "BDT" in first["message"]
    body = chat_client.post(
        "/api/v1/ai/chat",
        json={"message": "and for Globex?", "conversation_id": first["conversation_id"]},
        headers=headers,
    ).json()
    assert body["data"] is None, body["message"]
    assert body["message"].startswith("You're working in Acme Trading Ltd"), body["message"]
