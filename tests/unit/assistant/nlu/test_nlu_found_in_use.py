"""Entity and guard fixes for what was found asking the running product (issue 13).

Partial names that fit several records ask which one; a name written in full wins over its
siblings; a model number the company doesn't have is unknown, never its neighbour; "order N
more units" is a count; "pay the supplier N" an amount; SQL and code are no question; a noun
phrase over a period ("new customers last quarter") is a question, never an action.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from companion.assistant.nlu.entities import extract_entities
from companion.assistant.nlu.entities.docrefs import extract_document_refs
from companion.assistant.nlu.entities.master import MasterData
from companion.assistant.nlu.guard import describes, looks_like_code, requests

TODAY = dt.date(2026, 11, 20)
MASTER = MasterData.build(
    customers=[
        (1, "Khulna Corporation"),
        (2, "Khulna Emporium"),
        (3, "Khulna & Sons"),
        (4, "Rahim Traders Ltd"),
    ],
    suppliers=[(11, "Karim Steel")],
    products=[(21, "Bearing A205"), (22, "Bearing A208"), (23, "Cement")],
)


def entities(text: str) -> dict[str, Any]:
    return extract_entities(text, today=TODAY, fiscal_year_start_month=7, master=MASTER).entities


def test_a_partial_name_shared_by_several_customers_asks_which_one() -> None:
    found = entities("Khulna balance")["customer"]
    assert found["id"] is None
    assert {c["name"] for c in found["candidates"]} == {
        "Khulna Corporation",
        "Khulna Emporium",
        "Khulna & Sons",
    }


@pytest.mark.parametrize("text", ["Khulna Corporation balance", "khulna corp balance"])
def test_the_full_name_with_its_legal_word_is_that_customer(text: str) -> None:
    found = entities(text)["customer"]
    assert (found["id"], found.get("candidates")) == (1, None)


@pytest.mark.parametrize(("typed", "ident"), [("Bearing A205", 21), ("bearing a208", 22)])
def test_an_item_typed_exactly_wins_over_its_numbered_sibling(typed: str, ident: int) -> None:
    found = entities(f"stock of {typed}")["product"]
    assert (found["id"], found.get("candidates")) == (ident, None)


@pytest.mark.parametrize("typed", ["Bearing A209", "bearing a209"])
def test_a_model_number_the_company_lacks_is_unknown_with_its_neighbours(typed: str) -> None:
    found = entities(f"stock of {typed}")["product"]
    assert found["unknown"] is True and found["id"] is None
    assert found["text"] == typed
    assert {s["name"] for s in found["suggestions"]} == {"Bearing A205", "Bearing A208"}


def test_a_name_the_company_does_not_have_is_reported_not_dropped() -> None:
    found = entities("balance of Zebra Foods")
    assert found["customer"]["unknown"] is True and found["customer"]["text"] == "Zebra Foods"


@pytest.mark.parametrize(
    ("text", "quantity"),
    [
        ("order 50 more units", Decimal(50)),
        ("order 12 bags of Cement", Decimal(12)),
        ("order 20 more Bearing A208", Decimal(20)),
    ],
)
def test_order_n_more_is_a_quantity_not_a_document_number(text: str, quantity: Decimal) -> None:
    found = entities(text)
    assert found["quantity"] == quantity
    assert "document_ref" not in found


@pytest.mark.parametrize("text", ["order 42 status", "pay no. 12", "payment 5000"])
def test_word_and_number_references_still_read_as_documents(text: str) -> None:
    assert extract_document_refs(text)


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("pay the supplier 5000", Decimal(5000)),
        ("pay Karim Steel 5000", Decimal(5000)),
        ("pay 25000", Decimal(25000)),
        ("received from Rahim Traders Ltd 20,000", Decimal(20000)),
    ],
)
def test_paying_someone_n_carries_the_amount(text: str, amount: Decimal) -> None:
    found = entities(text)
    assert found["amount"] == amount
    assert "document_ref" not in found
    assert not any(isinstance(v, dict) and v.get("unknown") for v in found.values())


@pytest.mark.parametrize(
    "text",
    [
        "'; DELETE FROM customers WHERE 1=1; --",
        "DROP TABLE invoices; --",
        "select * from invoices",
        "SELECT name FROM customers",
        "union select password from users",
        "update customer set phone = '017'",
        "<script>alert(1)</script>",
        "def f(x): return eval(x)",
    ],
)
def test_sql_and_code_are_recognised(text: str) -> None:
    assert looks_like_code(text)


@pytest.mark.parametrize(
    "text",
    [
        "delete INV-2026-0045",
        "update the customer's phone",
        "select the cement from the list",
        "DELETE INV-2026-0001 FROM THE LIST",
        "sales (last month)",
        "drop the table order",
        "Rahim Traders' balance; is it overdue?",
    ],
)
def test_requests_and_questions_are_not_code(text: str) -> None:
    assert not looks_like_code(text)


@pytest.mark.parametrize(
    "text", ["new customers last quarter", "sales orders this month", "purchase orders in Q3"]
)
def test_a_noun_phrase_over_a_period_describes_without_requesting(text: str) -> None:
    assert not requests(text)
    assert describes(text, entities(text))


@pytest.mark.parametrize(
    "text",
    [
        "create a customer for last quarter's fair",  # an imperative
        "Rahim Traders Ltd paid 5000 last week",  # an amount to record
        "new customer Khulna Emporium",  # no period
        "invoice Rahim Traders Ltd due yesterday",  # one day, not a period of them
    ],
)
def test_requests_and_records_are_not_noun_phrases(text: str) -> None:
    assert not describes(text, entities(text))


@pytest.mark.parametrize(
    "text", ["invoce INV-2026-0045 staus", "INV-2026-0045 status", "PO-2026-0042 er obostha"]
)
def test_a_documents_status_is_asked_not_ordered(text: str) -> None:
    assert describes(text, entities(text))


def test_changing_a_documents_status_is_still_a_request() -> None:
    text = "update INV-2026-0045 status to paid"
    assert not describes(text, entities(text))


@pytest.mark.parametrize("text", ["an order from Nova Hospitality", "sales from Decor Mart"])
def test_a_name_starting_like_a_month_is_no_period(text: str) -> None:
    assert "period" not in extract_entities(text, today=TODAY).entities
