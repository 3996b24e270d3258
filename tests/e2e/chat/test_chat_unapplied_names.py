"""A name the chosen query can't filter by is said, never dropped; a choice offered is answered.

The demo's acme has the customer "Tangail Traders", the product "Ceiling Fan 56in" and the
warehouse "Sylhet Depot". The cash balance, profit and loss and inventory valuation can't be
broken down by customer or product (figures: refused, with offers); top customers and stock
levels can't be narrowed to a warehouse or a customer (lists: answered for the whole company,
saying so).
"""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient


def ask(
    client: TestClient, headers: dict[str, str], message: str, conversation: str | None = None
) -> Any:
    body: dict[str, Any] = {"message": message}
    if conversation:
        body["conversation_id"] = conversation
    response = client.post("/api/v1/ai/chat", json=body, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def test_a_figure_that_cant_take_the_name_is_refused_with_offers(chat_client, login) -> None:
    headers = login("finance")
    for message, title, kind, name in [
        ("profit and loss for Ceiling Fan 56in", "profit and loss", "product", "Ceiling Fan 56in"),
        ("cash flow for Tangail Traders this month", "cash flow", "customer", "Tangail Traders"),
        ("inventory valuation for Tangail Traders", "inventory valuation", "customer",
         "Tangail Traders"),
    ]:  # fmt: skip
        body = ask(chat_client, headers, message)
        assert body["skill"] == "clarify", (message, body["message"])
        assert body["data"] is None, message
        assert body["message"].startswith(
            f"I can't break the {title} down by {kind}, so I haven't answered for {name}."
        ), body["message"]
        # Nearest questions that do take the name, then the figure for the whole company.
        assert body["choices"][-1] == f"{title} for the whole company", body["choices"]
        assert len(body["choices"]) == 3
        assert all(c.endswith(f" for {name}") for c in body["choices"][:-1]), body["choices"]
    customer = ask(chat_client, headers, "cash flow for Tangail Traders this month")
    assert customer["choices"][0] == "customer balance for Tangail Traders"


def test_an_unknown_name_a_figure_cant_take_is_refused_too(chat_client, login) -> None:
    body = ask(chat_client, login("finance"), "profit and loss for Zebra Foods")
    assert body["skill"] == "clarify" and body["data"] is None
    assert "haven't answered for \u201cZebra Foods\u201d" in body["message"]
    assert "I don't know that name either" in body["message"]
    assert body["choices"] == ["profit and loss for the whole company"]


def test_a_list_that_cant_take_the_name_says_it_is_for_the_whole_company(
    chat_client, login
) -> None:
    headers = login("finance")
    everyone = ask(chat_client, headers, "top customers")
    depot = ask(chat_client, headers, "top customers at Sylhet Depot")
    assert depot["skill"] == "data_query"
    assert depot["message"].startswith(
        "The top customers can't be broken down by warehouse, so this is for the whole "
        "company, not just Sylhet Depot. "
    ), depot["message"]
    assert depot["message"].endswith(everyone["message"])
    assert depot["data"]["rows"] == everyone["data"]["rows"]
    assert depot["data"]["not_applied"] == [{"entity": "warehouse", "text": "Sylhet Depot"}]
    assert depot["choices"] == [
        "stock levels for Sylhet Depot",
        "inventory valuation for Sylhet Depot",
    ]
    product = ask(chat_client, headers, "overdue invoices for Ceiling Fan 56in")
    assert product["intent"] == "overdue_invoices" and product["skill"] == "data_query"
    assert "not just Ceiling Fan 56in" in product["message"]
    assert product["data"]["not_applied"][0]["entity"] == "product"


def test_picking_an_offer_answers_it_with_the_name_applied(chat_client, login) -> None:
    headers = login("finance")
    for reply in ["the first one", "sales for Ceiling Fan 56in", "1"]:
        first = ask(chat_client, headers, "profit and loss for Ceiling Fan 56in this year")
        body = ask(chat_client, headers, reply, first["conversation_id"])
        assert body["skill"] == "data_query", (reply, body["message"])
        assert body["intent"] == "sales_summary", reply
        assert body["entities"]["product"]["name"] == "Ceiling Fan 56in"
        # acme's year runs from July: "this year" is its fiscal year (nlu/entities/periods).
        assert body["entities"]["period"]["start"] == "2025-07-01", reply
        assert body["message"].startswith(
            "Sales of Ceiling Fan 56in in fiscal year 2025–26 (1 Jul 2025 – 30 Jun 2026) were"
        ), body
    first = ask(chat_client, headers, "profit and loss for Ceiling Fan 56in this year")
    whole = ask(chat_client, headers, "the last one", first["conversation_id"])
    direct = ask(chat_client, headers, "profit and loss this year")
    assert whole["intent"] == "profit_and_loss" and whole["skill"] == "data_query"
    assert "product" not in whole["entities"]
    assert whole["data"]["totals"] == direct["data"]["totals"]
    # A yes to several choices asks which again; it is no confirmation of anything.
    fresh = ask(chat_client, headers, "profit and loss for Ceiling Fan 56in this year")
    again = ask(chat_client, headers, "yes", fresh["conversation_id"])
    assert again["skill"] == "clarify", again["message"]
    assert (again["message"], again["choices"]) == (fresh["message"], fresh["choices"])


def test_a_reply_to_did_you_mean_answers_the_question_with_that_name(chat_client, login) -> None:
    headers = login("finance")
    exact = ask(chat_client, headers, "sales to Tangail Traders this year")
    for reply in ["yes", "the first one", "Tangail Traders", "yes, Tangail Traders please"]:
        asked = ask(chat_client, headers, "sales to Tangl Trdrs this year")
        assert asked["choices"] == ["Tangail Traders"]
        body = ask(chat_client, headers, reply, asked["conversation_id"])
        assert body["skill"] == "data_query", (reply, body["message"])
        assert body["intent"] == "sales_summary"
        assert body["entities"]["customer"]["name"] == "Tangail Traders"
        assert body["data"]["totals"] == exact["data"]["totals"], reply
        assert body["message"] == exact["message"], reply


def test_an_offer_is_answered_by_the_next_message_only(chat_client, login) -> None:
    headers = login("finance")
    asked = ask(chat_client, headers, "sales to Tangl Trdrs this year")
    ask(chat_client, headers, "hello", asked["conversation_id"])
    late = ask(chat_client, headers, "yes", asked["conversation_id"])
    # No action is open and nothing is offered any more: nothing to say yes to.
    assert late["skill"] == "dialogue", late["message"]
    assert late["data"] is None
    nothing = ask(chat_client, headers, "sales to Zebra Foods this year")
    assert not nothing.get("choices")
    assert ask(chat_client, headers, "yes", nothing["conversation_id"])["skill"] == "dialogue"


def test_questions_that_take_their_names_keep_working(chat_client, login) -> None:
    headers = login("finance")
    for message, intent, kept in [
        ("balance of Tangail Traders", "customer_balance", "customer"),
        ("sales of Ceiling Fan 56in this month", "sales_summary", "product"),
        ("stock levels at Sylhet Depot", "stock_levels", "warehouse"),
        ("cash balance in BRAC Bank Operating", "cash_balance", "bank_account"),
        # "Dhaka" is also a supplier's first word: the warehouse took it.
        ("inventory valuation at Dhaka Central Warehouse", "inventory_valuation", "warehouse"),
    ]:
        body = ask(chat_client, headers, message)
        assert (body["intent"], body["skill"]) == (intent, "data_query"), (message, body)
        assert body["entities"][kept]["id"] is not None, message
        assert not body["data"]["not_applied"] and not body.get("choices"), message
        assert "can't be broken down" not in body["message"], message
    for message, intent in [
        ("top customers", "top_customers"),
        ("sales this month", "sales_summary"),
        ("cash balance in USD", "cash_balance"),
        ("profit and loss for Q1", "profit_and_loss"),
        # The company's own name names no customer, supplier or product.
        ("profit and loss for Acme Trading Ltd", "profit_and_loss"),
        ("cash balance of Acme", "cash_balance"),
    ]:
        body = ask(chat_client, headers, message)
        assert (body["intent"], body["skill"]) == (intent, "data_query"), (message, body)
        assert not body["data"]["not_applied"] and not body.get("choices"), message
