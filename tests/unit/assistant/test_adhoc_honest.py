"""Questions written before their answers were read (H6) that got a confident answer to a
different question: each is now read as what it asks, or refused saying what can't be
answered, with what can be offered instead."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from companion.assistant import adhoc, routing
from companion.assistant.state import ConversationState

TODAY = dt.date(2026, 11, 20)


def read(text: str, intent: str, entities=None):  # type: ignore[no-untyped-def]
    return adhoc.read(text, intent, dict(entities or {}), None, TODAY, 7)


@pytest.mark.parametrize(
    ("text", "intent", "said"),
    [
        # a future figure asked with its name between "will" and the verb
        ("what will our cash balance be at the end of next month?", "cash_balance", "forecast"),
        ("what will the profit be next quarter?", "profit_and_loss", "forecast"),
        # things the ledger doesn't record, answered before as a figure it does
        ("what interest rate are we paying on our bank loan?", "cash_balance", "loans"),
        ("what is the sales manager's monthly salary?", "sales_summary", "pay"),
        ("how much does Karim earn?", "sales_summary", "pay"),
        ("how many quotations did we send out last month?", "sales_summary", "quotations"),
        ("what's our market share in Dhaka?", "out_of_scope", "competitors"),
        ("how does our revenue compare with our competitors?", "sales_summary", "competitors"),
        ("what are our customers saying about the new LED TV?", "customer_balance", "feedback"),
        ("what's the shelf location of the LED TV 43in?", "out_of_scope", "shelves"),
        ("how long does Shenzhen shipping usually take to arrive?", "out_of_scope", "lead"),
        ("should we raise our prices next year?", "profit_and_loss", "opinion"),
        ("is Rahman Traders a reliable customer?", "customer_balance", "opinion"),
    ],
)
def test_what_the_records_do_not_hold_is_refused_with_an_offer(
    text: str, intent: str, said: str
) -> None:
    found = read(text, intent)
    assert isinstance(found, adhoc.Refusal), found
    assert said in found.text
    assert found.offers


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        # the figures these words sit beside are still answered
        ("what's income this year?", "profit_and_loss"),
        ("how much did we earn after expenses this quarter", "profit_and_loss"),
        ("what's the total value of open purchase orders?", "purchase_orders"),
        ("how much cash will we receive from Gazipur?", "explain_policy"),
        ("what is the loan policy for staff?", "explain_policy"),
        # a staff scheme is the documents' question, whatever the NLU read it as
        ("Is there a housing loan scheme?", "out_of_scope"),
        ("Is there a housing loan scheme?", "cash_balance"),
        ("can employees apply for a salary advance?", "out_of_scope"),
    ],
)
def test_figures_and_policies_near_those_words_are_not_refused(text: str, intent: str) -> None:
    assert not isinstance(read(text, intent), adhoc.Refusal)


def test_units_of_stock_are_the_units_on_hand_not_units_sold() -> None:
    # quantity sold needs sales.read, which the storekeeper lacks: it refused the question
    found = read("how many units of stock do we hold?", "stock_levels")
    assert isinstance(found, adhoc.Reading)
    assert found.query.measure == "stock_quantity"
    assert found.query.by == ()
    sold = read("how many units of Ceiling Fan did we sell in October?", "sales_summary")
    assert isinstance(sold, adhoc.Reading)
    assert sold.query.measure == "quantity_sold"


def test_a_stock_list_question_still_gets_the_fixed_list() -> None:
    assert read("show me stock levels", "stock_levels") is None


@pytest.mark.parametrize(
    ("text", "intent", "measure"),
    [
        ("how many sales orders are still open?", "order_status", "open_orders"),
        ("how many open purchase orders do we have?", "purchase_orders", "open_pos"),
    ],
)
def test_open_documents_are_those_open_today(text: str, intent: str, measure: str) -> None:
    found = read(text, intent)
    assert isinstance(found, adhoc.Reading)
    assert found.query.measure == measure


@pytest.mark.parametrize(
    ("text", "intent", "measure", "party"),
    [
        ("who did we buy the most from this year?", "purchase_orders", "purchases", "supplier"),
        ("which supplier did we spend the most with last quarter?", "ap_aging", "purchases",
         "supplier"),
        ("who paid us the most last month?", "ar_aging", "receipts", "customer"),
    ],
)  # fmt: skip
def test_who_ranked_by_a_measure_is_its_party_ranked_first(
    text: str, intent: str, measure: str, party: str
) -> None:
    found = read(text, intent)
    assert isinstance(found, adhoc.Reading)
    assert (found.query.measure, found.query.by, found.query.top) == (measure, (party,), 1)


def test_which_customers_bought_lists_every_one_of_them() -> None:
    found = read("which customers bought from us last week?", "top_customers")
    assert isinstance(found, adhoc.Reading)
    assert (found.query.measure, found.query.by, found.query.top) == ("sales", ("customer",), None)
    # a ranking is still the fixed top customers
    assert read("who were our top 5 customers this year?", "top_customers", {"top_n": 5}) is None
    assert read("who are our best customers?", "top_customers") is None


def test_when_a_party_last_bought_is_known_by_its_shape() -> None:
    assert adhoc.asks_last_time("when was the last time Zebra Foods bought anything?")
    assert adhoc.asks_last_time("When did Gazipur & Sons last order?")
    assert not adhoc.asks_last_time("when are salaries paid?")


def _route(text: str, intent: str, entities: dict[str, Any]) -> routing.Route:
    message = routing.Message(
        text=text,
        intent=intent,
        confidence=0.9,
        entities=entities,
        state=ConversationState(),
        data_intents=frozenset({"purchase_orders"}),
    )
    return routing.route(message)


def test_documents_still_waiting_for_a_step_are_the_open_ones() -> None:
    asked = "which purchase orders are still waiting to be received?"
    route = _route(asked, "purchase_orders", {"status": "received"})
    assert route.resolved.entities["status"] == "open"
    assert "awaited" in route.taken
    # the status itself, asked plainly, is kept
    plain = _route(
        "which purchase orders were received?", "purchase_orders", {"status": "received"}
    )
    assert plain.resolved.entities["status"] == "received"
