"""What was found asking the running product (issues 13 and 20), asked again over HTTP.

"new customers last quarter" is a question, never a request to create a customer, and its
answer says the list can't be narrowed to a period; SQL gets no data answer; a partial name
several customers share asks which one; years say whether they are fiscal or calendar.
The demo's acme keeps its books from July, globex from January; today is 15 Mar 2026.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from companion.assistant.nlu import ACTIONS
from companion.erp.parties.models import Customer
from companion.tenancy.models import Company


def ask(client: TestClient, headers: dict[str, str], message: str) -> Any:
    response = client.post("/api/v1/ai/chat", json={"message": message}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def test_new_customers_in_a_period_is_a_question_answered_honestly(
    chat_client: TestClient, login: Any
) -> None:
    body = ask(chat_client, login("admin", "acme"), "new customers last quarter")
    assert body["intent"] not in ACTIONS, body
    assert body["skill"] != "action" and not body.get("pending_confirmation")
    assert body["intent"] == "customer_list", body["intent"]
    # The list knows no date a customer joined: said, not answered as if it did.
    assert "can't narrow the customer list to a period" in body["message"], body["message"]
    assert "Q2 of fiscal year 2025–26 (1 Oct – 31 Dec 2025)" in body["message"]


def test_sql_gets_no_data_answer(chat_client: TestClient, login: Any) -> None:
    for message in (
        "'; DELETE FROM customers WHERE 1=1; --",
        "SELECT name, balance FROM customers",
        "<script>alert('x')</script>",
    ):
        body = ask(chat_client, login("admin", "acme"), message)
        assert body["intent"] == "out_of_scope", (message, body["intent"])
        assert body["skill"] != "data_query" and body["data"] is None, message
        assert "active customers" not in body["message"]
        assert not body.get("pending_confirmation")


def test_a_partial_name_several_customers_share_asks_which_one(
    chat_client: TestClient, login: Any, demo_session: Session
) -> None:
    company = demo_session.execute(select(Company).where(Company.slug == "acme")).scalar_one()
    names = demo_session.execute(
        select(Customer.name).where(Customer.company_id == company.id, Customer.is_active.is_(True))
    ).scalars()
    by_first: dict[str, list[str]] = defaultdict(list)
    for name in names:
        by_first[name.split()[0]].append(name)
    shared = sorted(
        (first, group)
        for first, group in by_first.items()
        if len(group) >= 2 and len(first) >= 5 and first.isalpha()
    )
    assert shared, "the demo has customers sharing a first word (Khulna …, Dhaka …)"
    first, group = shared[0]
    body = ask(chat_client, login("finance", "acme"), f"how much does {first} owe us?")
    assert body["skill"] == "clarify", (first, body["message"])
    assert body["message"].startswith("Which customer do you mean"), body["message"]
    assert set(body["choices"]) <= set(group) and len(body["choices"]) >= 2
    assert body["data"] is None
    # Picking one answers the question for that customer.
    picked = chat_client.post(
        "/api/v1/ai/chat",
        json={"message": body["choices"][0], "conversation_id": body["conversation_id"]},
        headers=login("finance", "acme"),
    ).json()
    assert picked["skill"] == "data_query", picked["message"]
    assert picked["entities"]["customer"]["name"] == body["choices"][0]


def test_years_say_whether_they_are_fiscal_or_calendar(chat_client: TestClient, login: Any) -> None:
    acme = login("finance", "acme")
    fiscal = ask(chat_client, acme, "sales this year")
    assert fiscal["entities"]["period"]["start"] == "2025-07-01"
    assert "fiscal year 2025–26 (1 Jul 2025 – 30 Jun 2026)" in fiscal["message"]
    so_far = ask(chat_client, acme, "sales this year so far")
    assert "fiscal year 2025–26 to date (1 Jul 2025 – 15 Mar 2026)" in so_far["message"]
    calendar = ask(chat_client, acme, "sales in 2026")
    assert "2026 (calendar year)" in calendar["message"], calendar["message"]
    globex = ask(chat_client, login("admin", "globex"), "sales this year")
    assert globex["entities"]["period"]["start"] == "2026-01-01"
    assert "2026 (calendar year)" in globex["message"], globex["message"]
