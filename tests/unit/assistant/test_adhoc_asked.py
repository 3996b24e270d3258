"""Questions a fixed query used to answer with a different figure (found asking as a user):
each is read as the figure it names, or refused saying what can't be computed."""

from __future__ import annotations

import datetime as dt

import pytest

from companion.analytics.engine import compared_period
from companion.assistant import adhoc
from companion.assistant.nlu.entities import extract_entities
from companion.assistant.nlu.entities.master import MasterData

TODAY = dt.date(2026, 11, 20)
Q3 = {"period": {"start": "2026-07-01", "end": "2026-09-30"}}
PENANG = {"supplier": {"text": "Penang", "id": 7, "name": "Penang Exports", "score": 100.0}}
TANGAIL = {"customer": {"text": "Tangail", "id": 3, "name": "Tangail Traders", "score": 100.0}}


def read(text: str, intent: str, entities=None):  # type: ignore[no-untyped-def]
    return adhoc.read(text, intent, dict(entities or {}), None, TODAY, 7)


@pytest.mark.parametrize(
    ("text", "intent", "entities", "measure", "by", "top"),
    [
        # a flow asked of a balance query: the payables ageing doesn't say what was paid
        (
            "how much did we pay suppliers in October?",
            "ap_aging",
            {},
            "supplier_payments",
            (),
            None,
        ),
        (
            "which supplier did we pay the most last quarter?",
            "ap_aging",
            Q3,
            "supplier_payments",
            ("supplier",),
            1,
        ),
        ("how much have customers paid us this month?", "ar_aging", {}, "receipts", (), None),
        # what a supplier billed us, not what we owe them
        (
            "how much did we spend on Penang this year?",
            "supplier_balance",
            PENANG,
            "purchases",
            (),
            None,
        ),
        (
            "what did we buy from Penang last quarter?",
            "supplier_balance",
            PENANG,
            "purchases",
            ("item",),
            None,
        ),
        # the items a customer bought, not only their total
        ("what did Tangail buy last month?", "sales_summary", TANGAIL, "sales", ("item",), None),
        # one record ranked first, by the measure its participle names
        ("who is our best selling item?", "top_customers", {}, "sales", ("item",), 1),
        ("what is our best-selling product?", "top_customers", {}, "sales", ("item",), 1),
        (
            "what was our biggest expense this year?",
            "profit_and_loss",
            {},
            "expenses",
            ("account",),
            1,
        ),
        # tax charged on sales is not receipts
        ("how much VAT did we collect last quarter?", "analytics", Q3, "tax_collected", (), None),
        # a total of many documents is not one document's status
        ("what's the total value of unpaid invoices?", "invoice_status", {}, "open_ar", (), None),
    ],
)
def test_the_figure_named_is_the_one_read(text, intent, entities, measure, by, top) -> None:  # type: ignore[no-untyped-def]
    got = read(text, intent, entities)
    assert isinstance(got, adhoc.Reading), got
    assert (got.query.measure, got.query.by, got.query.top) == (measure, by, top)


def test_a_profit_margin_stays_with_the_profit_and_loss() -> None:
    assert read("what's our net profit margin this year?", "profit_and_loss") is None
    got = read("gross margin by month", "profit_and_loss")
    assert isinstance(got, adhoc.Reading) and got.query.measure == "gross_margin"


def test_paid_in_a_payment_question_is_not_an_invoice_status() -> None:
    got = read("how much have customers paid us this month?", "ar_aging", {"status": "paid"})
    assert isinstance(got, adhoc.Reading) and got.query.status is None
    unpaid = read("total of unpaid invoices", "invoice_status", {"status": "unpaid"})
    assert isinstance(unpaid, adhoc.Reading) and unpaid.query.status is None


def test_compared_with_last_quarter_is_this_quarter_so_far() -> None:
    got = read("did sales grow compared to last quarter?", "sales_summary", Q3)
    # like for like: the engine compares the same days of last quarter (1 Jul - 20 Aug)
    assert isinstance(got, adhoc.Reading) and got.query.compare == "previous_period"
    assert (got.query.start, got.query.end) == (dt.date(2026, 10, 1), dt.date(2026, 12, 31))
    assert compared_period(got.query, got.query.start, TODAY) == (
        dt.date(2026, 7, 1),
        dt.date(2026, 8, 20),
    )
    assert got.defaulted == "this quarter so far"


@pytest.mark.parametrize(
    ("text", "intent", "says"),
    [
        ("how much cash will we have at the end of the month?", "cash_balance", "forecast cash"),
        ("what will our profit be next quarter?", "profit_and_loss", "forecast"),
        ("what's our current ratio?", "out_of_scope", "balance-sheet ratios"),
        (
            "what's the average number of days our customers take to pay?",
            "ar_aging",
            "how long customers take to pay",
        ),
        ("what is our DSO?", "ar_aging", "how long customers take to pay"),
        ("what's our inventory turnover?", "stock_levels", "stock turnover"),
        ("what was EBITDA last year?", "profit_and_loss", "that ratio"),
        ("what's our return on investment?", "profit_and_loss", "that ratio"),
        ("what's our customer churn rate?", "customer_list", "churn"),
        ("which customers are over their credit limit?", "customer_list", "credit limits"),
    ],
)
def test_what_cant_be_computed_is_said(text: str, intent: str, says: str) -> None:
    got = read(text, intent)
    assert isinstance(got, adhoc.Refusal), got
    assert got.text.startswith("I can't") and says in got.text
    assert got.offers


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("how many days do customers get to pay?", "explain_policy"),
        ("will we be reimbursed for taxi fares?", "explain_policy"),
        ("how many quotations do we need for a purchase over 5 lakh?", "explain_policy"),
        ("how much cash do we have?", "cash_balance"),
        ("When are variable bonuses paid?", "explain_policy"),
        ("operating profit ytd", "profit_and_loss"),
        ("is Meghna Textiles over their credit limit", "customer_balance"),
    ],
)
def test_ordinary_questions_are_not_refused(text: str, intent: str) -> None:
    assert not isinstance(read(text, intent), adhoc.Refusal)


def test_what_falls_due_is_no_forecast_and_no_overdue_list() -> None:
    # Was the overdue list "as it stands today": invoices falling due next week aren't overdue.
    got = read("which invoices fall due next week?", "overdue_invoices")
    assert isinstance(got, adhoc.Refusal), got
    assert "fall due" in got.text and "forecast" not in got.text
    assert "overdue invoices" in got.offers


def test_a_date_asked_is_no_total() -> None:
    # was "There were no supplier payments in this month so far" for a handbook question
    assert read("When are variable bonuses paid?", "explain_policy") is None
    assert read("when did we pay suppliers last?", "ap_aging") is None


def test_a_name_inside_a_longer_name_of_another_kind_is_part_of_it() -> None:
    master = MasterData.build(
        suppliers=[(1, "Chattogram Lotus Electronics Co.", "SUP-1")],
        warehouses=[(2, "Chattogram Port Depot", "WH-2")],
    )
    found = extract_entities(
        "total purchases from Chattogram Lotus Electronics Co. this year",
        today=TODAY,
        master=master,
    ).entities
    assert found["supplier"]["id"] == 1
    assert "warehouse" not in found
    alone = extract_entities("stock value in Chattogram", today=TODAY, master=master).entities
    assert alone["warehouse"]["id"] == 2


@pytest.mark.parametrize(
    ("previous", "text", "start", "end"),
    [
        # a whole month: the month before it
        (("2026-10-01", "2026-10-31"), "what about the month before?", "2026-09-01", "2026-09-30"),
        # this month so far: the whole month before, not its first 20 days
        (("2026-11-01", "2026-11-20"), "and the previous month?", "2026-10-01", "2026-10-31"),
        # a fiscal quarter: the quarter before
        (
            ("2026-07-01", "2026-09-30"),
            "what about the quarter before?",
            "2026-04-01",
            "2026-06-30",
        ),
        # the year before: the same months a year earlier
        (("2026-10-01", "2026-10-31"), "and the year before?", "2025-10-01", "2025-10-31"),
    ],
)
def test_the_period_before_follows_the_last_answer(previous, text, start, end) -> None:  # type: ignore[no-untyped-def]
    query = {
        "measure": "sales",
        "by": ["customer"],
        "start": previous[0],
        "end": previous[1],
    }
    state = {"analytics": {"query": query, "names": {}, "defaulted": None}}
    # As the conversation stores it: typed where adhoc reads ConversationState, else the dict.
    typed = getattr(adhoc, "ConversationState", None)
    stored = typed.from_json(state) if typed is not None else state
    got = adhoc.read(text, "remember", {}, stored, TODAY, 7)
    assert isinstance(got, adhoc.Reading) and got.follow_up
    assert (got.query.start.isoformat(), got.query.end.isoformat()) == (start, end)
    assert got.query.by == ("customer",)


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("what do we owe our suppliers by age", "ap_aging"),
        ("what do customers owe us by age?", "ar_aging"),
        ("show receivables in ageing buckets", "ar_aging"),
        ("aged payables", "ap_aging"),
        ("receivables by days overdue", "ar_aging"),
    ],
)
def test_the_ageing_asked_by_age_is_the_fixed_ageing(text: str, intent: str) -> None:
    # Was "I can't break open payables down by age: Companion has no age for that figure".
    assert read(text, intent) is None


def test_another_breakdown_of_what_is_owed_is_still_ad_hoc() -> None:
    got = read("receivables by region", "ar_aging")
    assert isinstance(got, adhoc.Refusal) and "region" in got.text
