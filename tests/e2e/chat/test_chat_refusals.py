"""Out-of-scope questions are refused saying why, with what Companion can do instead, on the
demo of each backend through the real chat turn (NLU, documents first, then the refusal)."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

HELP = "Say “help” for examples."


def ask(client: TestClient, headers: dict[str, str], message: str) -> Any:
    response = client.post("/api/v1/ai/chat", json={"message": message}, headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["intent"], body["skill"]) == ("out_of_scope", "dialogue"), body
    return body


def test_a_prediction_is_refused_as_one(chat_client, login) -> None:
    body = ask(chat_client, login("finance"), "will it rain tomorrow?")
    assert body["message"] == (
        "I can't predict whether it will rain tomorrow: Companion has no forecasting method "
        "and doesn't guess future figures, and it has no live outside data such as the "
        f"weather, only your company's ERP records and documents. {HELP}"
    )


def test_an_outside_fact_says_companion_sees_only_the_company(chat_client, login) -> None:
    body = ask(chat_client, login("finance"), "who won the cricket match yesterday?")
    assert body["message"] == (
        "I can't look up news or sports results: Companion only sees your company's ERP "
        f"records and documents, and has no live outside data. {HELP}"
    )


def test_an_action_lists_only_what_the_role_may_do(chat_client, login) -> None:
    question = "book me a flight to Dubai"
    finance = ask(chat_client, login("finance"), question)["message"]
    assert finance == (
        "I can't book a flight to Dubai: that isn't something Companion can do. The actions I "
        "can take for you here are: approve or reject purchase orders, post customer "
        f"invoices, record payments and void documents. {HELP}"
    )
    sales = ask(chat_client, login("sales"), question)["message"]
    assert "are: create sales orders and add customers." in sales
    assert "purchase orders" not in sales and "payments" not in sales
    viewer = ask(chat_client, login("viewer"), question)["message"]
    assert viewer.startswith("I can't book a flight to Dubai:")
    assert "your role has no actions here" in viewer
    assert "The actions I can take" not in viewer


def test_anything_else_gets_the_general_line(chat_client, login) -> None:
    body = ask(chat_client, login("finance"), "tell me a joke")
    assert body["message"] == (
        "I can only help with your company's business data — cash, sales, invoices, "
        f"purchasing and stock. {HELP}"
    )


def test_an_action_the_company_disabled_is_not_offered(chat_client, login) -> None:
    put = chat_client.put(
        "/api/v1/ai/actions/settings/void_document",
        json={"disabled": True},
        headers=login("admin", "acme"),
    )
    assert put.status_code == 200, put.text
    said = ask(chat_client, login("finance"), "book me a flight to Dubai")["message"]
    assert (
        "are: approve or reject purchase orders, post customer invoices and record payments."
        in (said)
    )
    assert "void" not in said
