"""A name the company doesn't have is never dropped: no company-wide answer in its place.

The demo's acme has the customer "Tangail Traders"; "Prairie Motors" is a customer of globex
only, and "Zebra Foods" of no one. Questions naming no customer keep their usual answers.
"""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient


def ask(client: TestClient, headers: dict[str, str], message: str) -> Any:
    response = client.post("/api/v1/ai/chat", json={"message": message}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def test_a_known_and_a_misspelt_close_name_filter_the_answer(chat_client, login) -> None:
    headers = login("finance")
    everyone = ask(chat_client, headers, "sales this year")
    exact = ask(chat_client, headers, "sales to Tangail Traders this year")
    misspelt = ask(chat_client, headers, "sales to Tangial Traders this year")
    assert exact["skill"] == misspelt["skill"] == "data_query"
    assert exact["entities"]["customer"]["name"] == "Tangail Traders"
    assert misspelt["entities"]["customer"]["name"] == "Tangail Traders"
    assert misspelt["data"]["totals"] == exact["data"]["totals"]
    assert "Tangail Traders" in exact["message"]
    assert exact["data"]["totals"]["sales"] < everyone["data"]["totals"]["sales"]


def test_a_name_too_far_to_resolve_is_offered_not_dropped(chat_client, login) -> None:
    body = ask(chat_client, login("finance"), "sales to Tangl Trdrs this year")
    assert body["skill"] == "clarify"
    assert body["data"] is None
    assert body["message"].startswith("I don't know a customer")
    assert "Tangl Trdrs" in body["message"]
    assert body["choices"][0] == "Tangail Traders"


def test_an_unknown_name_says_so_instead_of_answering_for_everyone(chat_client, login) -> None:
    headers = login("finance")
    for message, kind in [
        ("sales to Zebra Foods this year", "customer"),
        ("how much does Zebra Foods owe us?", "customer"),
        ("what do we owe Zebra Supplies?", "supplier"),
        ("sales to zebra foods ltd", "customer"),
    ]:
        body = ask(chat_client, headers, message)
        assert body["skill"] == "clarify", (message, body["message"])
        assert body["data"] is None, message
        assert body["message"].startswith(f"I don't know a {kind}"), body["message"]
        assert not body.get("choices"), message


def test_another_companys_customer_answers_exactly_like_a_missing_one(chat_client, login) -> None:
    headers = login("finance")
    other = ask(chat_client, headers, "how much does Prairie Motors owe us?")
    missing = ask(chat_client, headers, "how much does Zebra Motors owe us?")
    assert other["skill"] == missing["skill"] == "clarify"
    assert other["data"] is None and other.get("choices") == missing.get("choices")
    assert other["message"] == missing["message"].replace("Zebra Motors", "Prairie Motors")
    # The name is globex's: globex's own users are answered about it.
    globex = ask(chat_client, login("gfinance"), "how much does Prairie Motors owe us?")
    assert globex["skill"] == "data_query"
    assert globex["entities"]["customer"]["name"].startswith("Prairie Motors")


def test_a_supplier_named_in_a_customer_question_names_no_customer(chat_client, login) -> None:
    body = ask(chat_client, login("finance"), "sales to Penang Lotus Exports this year")
    assert body["skill"] == "clarify"
    assert body["message"].startswith("I don't know a customer called")


def test_questions_naming_no_customer_keep_working(chat_client, login) -> None:
    headers = login("finance")
    for message, intent in [
        ("top customers", "top_customers"),
        ("which customers owe us", "ar_aging"),
        ("customer list", "customer_list"),
        ("show the customer list", "customer_list"),
        ("top 5 customers last quarter", "top_customers"),
        ("sales this month", "sales_summary"),
        ("which invoices are overdue?", "overdue_invoices"),
    ]:
        body = ask(chat_client, headers, message)
        assert body["intent"] == intent, (message, body["intent"])
        assert body["skill"] == "data_query", (message, body["message"])
        assert body["data"]["rows"] or body["data"]["totals"], message
        assert "customer" not in body["entities"], message


def test_a_warehouse_the_company_lacks_is_said_and_its_warehouses_offered(
    chat_client, login
) -> None:
    """ "The Chittagong warehouse" (acme's is the Chattogram Port Depot): never the stock of all
    three warehouses as if the name had not been said; the pick then answers for that one."""
    headers = {**login("ceo"), "X-Company": "acme"}
    body = ask(chat_client, headers, "stock value in the Chittagong warehouse")
    assert body["skill"] == "clarify", body["message"]
    assert body["data"] is None
    assert body["message"].startswith("I don't know a warehouse called \u201cChittagong\u201d")
    assert body["choices"][0] == "Chattogram Port Depot"
    assert len(body["choices"]) == 3  # the demo's acme has three warehouses
    picked = chat_client.post(
        "/api/v1/ai/chat",
        json={"message": body["choices"][0], "conversation_id": body["conversation_id"]},
        headers=headers,
    ).json()
    assert picked["intent"] == "inventory_valuation"
    assert picked["entities"]["warehouse"]["name"] == "Chattogram Port Depot"
    assert "Chattogram Port Depot" in picked["message"]


def test_a_bound_on_days_narrows_the_list_or_is_said_not_to(chat_client, login) -> None:
    headers = login("finance")
    every = ask(chat_client, headers, "which invoices are overdue?")
    older = ask(chat_client, headers, "which invoices are overdue by more than 60 days?")
    assert older["intent"] == "overdue_invoices"
    assert "overdue by more than 60 days" in older["message"]
    days = every["data"]["columns"].index("days_overdue")
    assert older["data"]["rows"] == [r for r in every["data"]["rows"] if r[days] > 60]
    assert 0 < len(older["data"]["rows"]) < len(every["data"]["rows"])
    stock = ask(chat_client, headers, "stock levels older than 90 days")
    assert stock["intent"] == "stock_levels"
    assert stock["message"].startswith("I can't narrow the stock levels by how long")
    assert stock["data"]["not_applied"] == [{"entity": "age", "text": "older than 90 days"}]
