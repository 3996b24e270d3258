"""Reading documents, no activity, counts of parties and shares out of a message (issue 13)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from companion.assistant import adhoc_shapes as shapes
from companion.assistant.nlu import guard
from companion.assistant.nlu.entities import extract_entities

TODAY = dt.date(2026, 11, 20)
TANGAIL = {"text": "Tangail Traders", "id": 7, "name": "Tangail Traders"}
GULSHAN = {"text": "Gulshan Telecom", "id": 9, "name": "Gulshan Telecom"}
PENANG = {"text": "Penang", "id": 3, "name": "Penang Polymers"}


def read(text: str, **named: Any) -> shapes.Shape | None:
    entities = dict(extract_entities(text, today=TODAY, fiscal_year_start_month=7).entities)
    entities.update(named)
    return shapes.read(text, entities, TODAY)


@pytest.mark.parametrize(
    ("text", "order", "top", "kind"),
    [
        ("what was the largest invoice last month?", "largest", 1, "invoice"),
        ("what was our smallest sale last month?", "smallest", 1, "invoice"),
        ("biggest sale in October", "largest", 1, "invoice"),
        ("show me our 3 biggest invoices this year", "largest", 3, "invoice"),
        ("largest purchase order last quarter", "largest", 1, "purchase_order"),
        ("smallest order last month", "smallest", 1, "sales_order"),
        ("what's the highest supplier bill this month", "largest", 1, "bill"),
    ],
)
def test_a_superlative_with_a_document_word_ranks_documents(
    text: str, order: str, top: int, kind: str
) -> None:
    reading = read(text)
    assert isinstance(reading, shapes.Documents), text
    assert (reading.query.kind, reading.query.order, reading.query.top) == (kind, order, top)


def test_last_month_is_the_period_of_the_largest_invoice() -> None:
    reading = read("what was the largest invoice last month?")
    assert isinstance(reading, shapes.Documents)
    assert (reading.query.start, reading.query.end) == (dt.date(2026, 10, 1), dt.date(2026, 10, 31))
    assert reading.defaulted is None


@pytest.mark.parametrize(
    ("text", "kind", "low", "high"),
    [
        ("show me the invoices for Gulshan Telecom", "invoice", None, None),
        ("list invoices over 5 lakh", "invoice", Decimal("500000"), None),
        ("invoices above 100,000 last month", "invoice", Decimal("100000"), None),
        ("list the invoices under 1,000", "invoice", None, Decimal("1000")),
        ("POs over 2 lakh from Penang", "purchase_order", Decimal("200000"), None),
        ("show supplier bills from Penang", "bill", None, None),
        ("list open invoices for Gulshan Telecom", "invoice", None, None),
    ],
)
def test_lists_of_documents_with_party_and_threshold(
    text: str, kind: str, low: Decimal | None, high: Decimal | None
) -> None:
    party = {"supplier": PENANG} if kind in ("purchase_order", "bill") else {"customer": GULSHAN}
    reading = read(text, **party) if "Penang" in text or "Gulshan" in text else read(text)
    assert isinstance(reading, shapes.Documents), text
    assert (reading.query.kind, reading.query.min_amount, reading.query.max_amount) == (
        kind,
        low,
        high,
    )
    if "Gulshan" in text:
        assert reading.query.party == 9 and reading.party_name == "Gulshan Telecom"
    if "Penang" in text:
        assert reading.query.party == 3
    assert reading.query.open_only == ("open" in text)


def test_a_list_without_a_period_says_its_default() -> None:
    reading = read("show me the invoices for Gulshan Telecom", customer=GULSHAN)
    assert isinstance(reading, shapes.Documents)
    assert reading.defaulted == "the last 12 months"
    assert reading.query.end == TODAY and reading.query.start == dt.date(2025, 11, 21)


def test_a_supplier_named_on_invoices_is_said_not_dropped() -> None:
    reading = read("show me the invoices for Penang", supplier=PENANG)
    assert isinstance(reading, shapes.Documents)
    assert reading.query.party is None and reading.misnamed == ("supplier", "Penang Polymers")


@pytest.mark.parametrize(
    "text",
    [
        "sales by customer last month",
        "how many invoices did we issue last month?",
        "show me overdue invoices",
        "which month had the highest sales?",
        "show me sales last month",
        "top 5 customers by sales",
        "unpaid invoices by customer",
        "what is the status of INV-2026-0045",
    ],
)
def test_measure_questions_are_left_to_the_measure_reader(text: str) -> None:
    assert read(text) is None, text


@pytest.mark.parametrize(
    ("text", "member", "measure"),
    [
        ("which items haven't sold in the last 90 days?", "item", "sales"),
        ("products not sold this quarter", "item", "sales"),
        ("which customers haven't bought anything this year?", "customer", "sales"),
        ("customers who never bought from us this year", "customer", "sales"),
        ("customers with no sales last month", "customer", "sales"),
        ("which suppliers didn't we pay in October?", "supplier", "supplier_payments"),
        ("suppliers we have not ordered from this year", "supplier", "po_value"),
    ],
)
def test_negations_ask_for_members_with_no_activity(text: str, member: str, measure: str) -> None:
    reading = read(text)
    assert isinstance(reading, shapes.Inactive), text
    assert (reading.query.member, reading.query.measure) == (member, measure)


def test_ninety_days_is_the_period_of_the_unsold_items() -> None:
    reading = read("which items haven't sold in the last 90 days?")
    assert isinstance(reading, shapes.Inactive)
    assert (reading.query.end - reading.query.start).days == 89


@pytest.mark.parametrize(
    "text",
    ["which customers haven't paid yet?", "customers who have not paid their invoices"],
)
def test_unpaid_customers_are_receivables_not_inactivity(text: str) -> None:
    assert not isinstance(read(text), shapes.Inactive), text


@pytest.mark.parametrize(
    ("text", "measure"),
    [
        ("how many customers bought something in October?", "customers_buying"),
        ("how many different customers bought from us last month", "customers_buying"),
        ("how many items did we sell last month?", "items_sold"),
        ("number of products sold in October", "items_sold"),
        ("how many suppliers did we pay in October?", "suppliers_paid"),
        ("how many customers paid us last month?", "customers_paying"),
    ],
)
def test_how_many_parties_is_a_distinct_count(text: str, measure: str) -> None:
    reading = read(text)
    assert isinstance(reading, shapes.Counted), text
    assert reading.query.measure == measure and not reading.query.by


def test_how_many_customers_we_have_is_not_a_count_of_buyers() -> None:
    assert read("how many customers do we have?") is None


def test_how_many_customers_have_not_paid_is_no_count_of_payers() -> None:
    reading = read("how many customers haven't paid us this month?")
    assert not (isinstance(reading, shapes.Counted) and reading.query.measure == "customers_paying")


@pytest.mark.parametrize(
    ("text", "measure"),
    [
        ("what percentage of sales came from Tangail Traders last month?", "sales"),
        ("what share of our revenue is Tangail Traders this year", "sales"),
        ("Tangail Traders % of sales in October", "sales"),
        ("what percentage of receipts came from Tangail Traders", "receipts"),
    ],
)
def test_a_share_of_the_total(text: str, measure: str) -> None:
    reading = read(text, customer=TANGAIL)
    assert isinstance(reading, shapes.Shared), text
    assert reading.query.measure == measure and reading.query.filters == {"customer": 7}


def test_a_share_of_an_unknown_name_keeps_the_name_to_ask_about() -> None:
    unknown = {"text": "Tangial", "suggestions": [{"name": "Tangail Traders"}]}
    reading = read("what percentage of sales came from Tangial?", customer=unknown)
    assert isinstance(reading, shapes.Shared)
    assert reading.named.unknown == ("customer", "Tangial", ("Tangail Traders",))


@pytest.mark.parametrize(
    "text",
    [
        "show me the invoices for Gulshan Telecom",
        "list invoices over 5 lakh",
        "display the POs from Penang",
    ],
)
def test_show_and_list_are_questions_not_orders(text: str) -> None:
    assert guard.asks(text) and not guard.requests(text)


@pytest.mark.parametrize(
    "text", ["post an invoice for Gulshan Telecom", "create a PO for Penang for 2 lakh"]
)
def test_orders_are_still_orders(text: str) -> None:
    assert guard.requests(text) and not guard.asks(text)


@pytest.mark.parametrize(
    "text", ["invoices above 80,000 in February 2026", "bills from Penang last month"]
)
def test_documents_named_first_are_asked_for_not_issued(text: str) -> None:
    assert guard.asks(text) and not guard.requests(text)
    assert not guard.is_action_verb(text.split()[0])


def test_a_period_running_past_today_is_cut_at_today() -> None:
    reading = read("show me our 3 largest invoices this month")
    assert isinstance(reading, shapes.Documents)
    assert (reading.query.start, reading.query.end) == (dt.date(2026, 11, 1), TODAY)
    year = read("which customers haven't bought anything this year?")
    assert isinstance(year, shapes.Inactive) and year.query.end == TODAY
    assert year.defaulted == "fiscal year 2026–27 so far"


@pytest.mark.parametrize("text", ["ok", "ok so", "please"])
def test_fillers_alone_are_neither_asked_nor_requested(text: str) -> None:
    assert not guard.requests(text)
    assert read(text) is None


@pytest.mark.parametrize(
    ("text", "kind", "verb"),
    [
        ("When did Rahim Traders last buy from us?", "invoice", "bought"),
        ("when was the last time Rahim Traders ordered?", "sales_order", "ordered"),
        ("when did we last buy from Karim Steel?", "bill", "billed us"),
        ("when did we last order from Karim Steel", "purchase_order", "ordered"),
    ],
)
def test_when_a_party_last_bought_or_ordered_is_its_newest_document(
    text: str, kind: str, verb: str
) -> None:
    supplier = "Karim Steel" in text
    entities = (
        {"supplier": {"id": 11, "name": "Karim Steel", "text": "Karim Steel"}}
        if supplier
        else {"customer": {"id": 1, "name": "Rahim Traders", "text": "Rahim Traders"}}
    )
    got = shapes.last_document(text, entities, TODAY)
    assert got is not None
    assert got.query.kind == kind and got.query.order == "newest" and got.query.top == 1
    assert got.query.party == (11 if supplier else 1) and got.query.start is None
    assert got.query.end == TODAY and got.last == verb


@pytest.mark.parametrize(
    "text",
    [
        "When are variable bonuses paid?",
        "when did we last pay Karim Steel?",
        "when did sales peak?",
    ],
)
def test_other_when_questions_are_no_last_document(text: str) -> None:
    entities = {"supplier": {"id": 11, "name": "Karim Steel", "text": "Karim Steel"}}
    assert shapes.last_document(text, entities, TODAY) is None
