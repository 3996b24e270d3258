"""Why an out-of-scope message is refused, and the refusal's words (skills.refusals)."""

from __future__ import annotations

import datetime as dt

import pytest

from companion.assistant.skills.refusals import (
    GENERIC,
    Reason,
    actions_offered,
    asks_outside_figure,
    classify,
    refusal,
)

TODAY = dt.date(2026, 11, 20)
FINANCE_ACTIONS = [
    "approve_purchase_order",
    "commit_import",
    "post_ar_invoice",
    "record_payment",
    "reject_purchase_order",
    "void_document",
]


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        # predictions, of anything
        ("Will the taka weaken against the euro by March?", "forecast"),
        ("what is the oil price going to be in two weeks", "forecast"),
        ("Predict our revenue for 2028", "forecast"),
        ("do you think it will be sunny on the weekend?", "forecast"),
        ("how many customers will we have next year?", "forecast"),
        ("what are the chances of a recession", "forecast"),
        ("what's the copper price next month?", "forecast"),
        ("who is going to win the league", "forecast"),
        ("could you make a projection of receivables for Q3", "forecast"),
        # outside-world facts
        ("current price of silver per ounce", "outside"),
        ("what's the USD rate today", "outside"),
        ("is it raining in Sylhet right now", "outside"),
        ("latest headlines please", "outside"),
        ("how did the cricket go yesterday", "outside"),
        ("what is the population of Japan", "outside"),
        ("who is the prime minister of Canada", "outside"),
        # actions Companion doesn't have
        ("reserve a table for four at 8", "action"),
        ("Please email the auditor our ledger", "action"),
        ("can you transfer 500 to my personal account", "action"),
        ("I'd like you to schedule a meeting with the board", "action"),
        ("will you print the trial balance", "action"),
        ("hey, upload this file to Google Drive", "action"),
        # not predictions: past questions, politeness, schedules, anything else
        ("what was the exchange gain last month?", "other"),
        ("how much did we lose on currency differences in October", "other"),
        ("will you help me", "other"),
        ("will you be my friend?", "other"),
        ("which bills fall due next week?", "other"),
        ("what meetings are scheduled tomorrow", "other"),
        ("tell me a story", "other"),
        ("how are you today", "other"),
        ("what did we spend on willow baskets", "other"),
    ],
)
def test_why_a_message_is_out_of_scope(text: str, kind: str) -> None:
    assert classify(text, {}, TODAY).kind == kind


def test_a_period_after_today_makes_a_value_question_a_prediction() -> None:
    future = {"period": {"start": "2027-01-01", "end": "2027-01-31"}}
    past = {"period": {"start": "2026-01-01", "end": "2026-01-31"}}
    assert classify("price of cotton in January", future, TODAY).kind == "forecast"
    assert classify("price of cotton in January", past, TODAY).kind == "outside"


@pytest.mark.parametrize(
    ("text", "thing"),
    [
        ("what will the price of rice be next month?", "what the price of rice will be next month"),
        ("Will it snow on Sunday?", "whether it will snow on Sunday"),
        ("how much cash will we have by June?", "how much cash you will have by June"),
        ("will my bonus be paid?", "whether your bonus will be paid"),
        ("who will win the election", "who will win the election"),
        ("is the euro going to fall?", "whether the euro is going to fall"),
        ("forecast steel demand for 2027", "steel demand for 2027"),
        ("what's the outlook for tea exports", "tea exports"),
        # not said back: odd characters, too long, or no phrase to reuse
        ("will it rain on <b>Monday</b>?", None),
        ("forecast for tomorrow", None),
        (
            "will the price of the cheapest imported cotton fabric we buy from abroad rise "
            "sharply at the end of next year",
            None,
        ),
    ],
)
def test_the_thing_predicted_is_said_in_the_users_words(text: str, thing: str | None) -> None:
    reason = classify(text, {}, TODAY)
    assert reason.kind == "forecast"
    assert reason.thing == thing


def test_the_action_asked_is_said_without_the_request_around_it() -> None:
    assert classify("could you please book me a hotel in Dhaka", {}, TODAY).thing == (
        "book a hotel in Dhaka"
    )
    assert classify("send my manager the report for me", {}, TODAY).thing == (
        "send your manager the report"
    )


def _say(reason: Reason, actions: list[str] | None = None, reads: bool = True) -> str:
    return refusal(
        reason,
        actions=FINANCE_ACTIONS if actions is None else actions,
        can_read=lambda intent: reads,
        reads_any=reads,
    ).text


def test_a_forecast_of_a_business_measure_offers_its_actual_figures() -> None:
    said = refusal(
        classify("will our sales go up next quarter?", {}, TODAY),
        actions=[],
        can_read=lambda intent: intent == "sales_summary",
        reads_any=True,
    )
    assert said.text.startswith(
        "I can't predict whether your sales will go up next quarter: Companion has no "
        "forecasting method and doesn't guess future figures. I can show the actual sales"
    )
    assert said.choices == ("Sales last month",)
    assert said.text.endswith("Say “help” for examples.")


def test_a_forecast_offers_no_figures_the_role_cant_read() -> None:
    reason = classify("will our cash run low next month?", {}, TODAY)
    assert reason.measure == "cash_balance"
    unread = refusal(reason, actions=[], can_read=lambda intent: False, reads_any=True)
    assert "cash" not in unread.text.split(":", 1)[1]
    assert unread.choices == ()
    assert "I can show actual figures to date" in unread.text
    nothing = _say(reason, reads=False)
    assert "I can show" not in nothing


def test_an_outside_forecast_says_there_is_no_outside_data_and_offers_nothing() -> None:
    said = _say(classify("what will the gold price be next year?", {}, TODAY))
    assert said == (
        "I can't predict what the gold price will be next year: Companion has no forecasting "
        "method and doesn't guess future figures, and it has no live outside data such as "
        "market prices or exchange rates, only your company's ERP records and documents. "
        "Say “help” for examples."
    )


def test_an_outside_fact_says_what_companion_sees() -> None:
    said = _say(classify("what is the weather in Khulna", {}, TODAY))
    assert said == (
        "I can't look up the weather: Companion only sees your company's ERP records and "
        "documents, and has no live outside data. Say “help” for examples."
    )


def test_an_action_names_the_actions_the_role_may_take() -> None:
    said = _say(classify("book me a taxi to the airport", {}, TODAY))
    assert said == (
        "I can't book a taxi to the airport: that isn't something Companion can do. The "
        "actions I can take for you here are: approve or reject purchase orders, post customer "
        "invoices, record payments and void documents. Say “help” for examples."
    )


def test_a_role_without_actions_is_offered_none() -> None:
    said = _say(classify("call the supplier", {}, TODAY), actions=["commit_import"])
    assert "your role has no actions here" in said
    assert "purchase orders" not in said


def test_actions_are_listed_in_a_fixed_order_unknown_ones_by_name() -> None:
    assert actions_offered(["adjust_inventory"]) == ["adjust stock"]
    assert actions_offered(["reject_purchase_order", "send_reminder"]) == [
        "reject purchase orders",
        "send reminder",
    ]


def test_anything_else_keeps_the_general_line() -> None:
    assert _say(classify("sing me a song", {}, TODAY)) == GENERIC
    assert GENERIC.endswith("Say “help” for examples.")


@pytest.mark.parametrize(
    "text",
    [
        "will copper prices fall next week?",
        "how much is one US dollar in taka right now?",
        "how many taka for a dollar?",
        "convert 500 dollars into taka",
        "what is the euro to taka rate today?",
        "usd to bdt",
        "is the gold price going to rise?",
        "what will the interest rate be next year?",
    ],
)
def test_a_figure_no_books_hold(text: str) -> None:
    assert asks_outside_figure(text)


@pytest.mark.parametrize(
    "text",
    [
        "what is our cash balance?",
        "sales in usd last month",
        "show me sales by item in dollars",
        "which invoices are due next week?",
        "will PO-2026-0042 be approved tomorrow?",
        "what is the price of Ceiling Fan 56in?",
        "what is the usd price of Widget A?",
        "what was the exchange gain last month?",
        "what tax rate applies to ceiling fans?",
        "what rate did we pay for freight last month?",
        "what are the prices on invoice INV-2026-0042?",
        "which items will run out next week?",
    ],
)
def test_a_question_of_the_books_is_no_outside_figure(text: str) -> None:
    assert not asks_outside_figure(text)
