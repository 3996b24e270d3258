"""Reading ad-hoc questions: measure, breakdown, top-N, comparison, refusals (no database)."""

from __future__ import annotations

import datetime as dt

import pytest

from companion.analytics.engine import compared_period, time_bucket
from companion.analytics.query import AnalyticsQuery
from companion.assistant import adhoc
from companion.assistant.state import ConversationState

TODAY = dt.date(2026, 3, 15)
FEB = {"period": {"start": "2026-02-01", "end": "2026-02-28"}}


def read(text: str, intent: str = "sales_summary", entities=None, state=None):  # type: ignore[no-untyped-def]
    stored = ConversationState.from_json(state)  # the state as the conversation stores it
    return adhoc.read(text, intent, dict(entities or {}), stored, TODAY)


def test_a_breakdown_is_read_with_its_period() -> None:
    got = read("sales by item last month", entities=FEB)
    assert isinstance(got, adhoc.Reading)
    assert got.query.measure == "sales" and got.query.by == ("item",)
    assert (got.query.start, got.query.end) == (dt.date(2026, 2, 1), dt.date(2026, 2, 28))


@pytest.mark.parametrize(
    ("text", "measure", "by", "top", "order"),
    [
        ("top 5 suppliers by payments this year", "supplier_payments", ("supplier",), 5, "desc"),
        ("bottom 2 items by sales in January", "sales", ("item",), 2, "asc"),
        ("which item sold the most", "sales", ("item",), 1, "desc"),
        ("average invoice value by month", "average_invoice", ("month",), None, "desc"),
        ("how many invoices by customer", "invoice_count", ("customer",), None, "desc"),
        ("expenses by account", "expenses", ("account",), None, "desc"),
    ],
)
def test_measures_dimensions_and_rankings(text, measure, by, top, order) -> None:  # type: ignore[no-untyped-def]
    got = read(text, intent="out_of_scope")
    assert isinstance(got, adhoc.Reading), got
    assert (got.query.measure, got.query.by, got.query.top, got.query.order) == (
        measure,
        by,
        top,
        order,
    )


def test_comparisons() -> None:
    mtd = {"period": {"start": "2026-03-01", "end": "2026-03-31"}}
    # This month so far against the same days of last month (like for like), not against
    # the whole of February.
    got = read("compare sales this month with last month", entities=mtd)
    assert isinstance(got, adhoc.Reading) and got.query.compare == "previous_period"
    assert got.query.compare_start is None
    named = read("compare sales in February with January", entities=FEB)
    assert isinstance(named, adhoc.Reading) and named.query.compare == "period"
    assert (named.query.compare_start, named.query.compare_end) == (
        dt.date(2026, 1, 1),
        dt.date(2026, 1, 31),
    )
    year = read("sales last month vs the same period last year", entities=FEB)
    assert isinstance(year, adhoc.Reading) and year.query.compare == "last_year"
    q = AnalyticsQuery(measure="sales", compare="previous_period")
    assert compared_period(q, dt.date(2026, 3, 1), dt.date(2026, 3, 15)) == (
        dt.date(2026, 2, 1),
        dt.date(2026, 2, 15),
    )


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("sales by city", "city"),
        ("which salesperson sold the most", "salesperson"),
        ("expenses by cost centre", "cost centre"),
        ("sales by product category", "category"),
        ("sales vs target", "target"),
        ("forecast sales next month", "forecast"),
        ("sales by flavour", "flavour"),  # any "by X" the data lacks is named, not dropped
    ],
)
def test_what_the_data_lacks_is_refused_by_name(text: str, word: str) -> None:
    got = read(text)
    assert isinstance(got, adhoc.Refusal), got
    assert got.text.startswith("I can't") and word in got.text


def test_the_fixed_queries_keep_what_they_answer_exactly() -> None:
    assert read("sales last month", entities=FEB) is None
    assert read("top customers", intent="top_customers") is None
    assert read("sales by month", entities=FEB) is None


def test_a_follow_up_changes_the_last_ad_hoc_question() -> None:
    first = read("sales by customer last month", entities=FEB)
    assert isinstance(first, adhoc.Reading)
    state = {"intent": adhoc.INTENT, adhoc.STATE_KEY: adhoc.remembered(first)}
    by_month = read("now by month", intent="out_of_scope", state=state)
    assert isinstance(by_month, adhoc.Reading) and by_month.query.by == ("month",)
    assert by_month.query.start == dt.date(2026, 2, 1) and by_month.follow_up
    depot = {"warehouse": {"text": "Sylhet Depot", "id": 3, "name": "Sylhet Depot"}}
    only = read("only Sylhet Depot", intent="stock_levels", entities=depot, state=state)
    assert isinstance(only, adhoc.Reading) and only.query.filters == {"warehouse": 3}


def test_fiscal_quarters_and_years() -> None:
    assert time_bucket(dt.date(2026, 2, 10), "quarter", 7) == ((2026, 3), "FY2026 Q3")
    assert time_bucket(dt.date(2025, 8, 1), "year", 7) == ((2026,), "FY2026")
    assert time_bucket(dt.date(2026, 2, 10), "quarter", 1) == ((2026, 1), "2026-Q1")


def test_a_fixed_list_keeps_its_own_breakdown() -> None:
    assert read("which customers owe us", intent="ar_aging") is None
    got = read("open receivables by status", intent="ar_aging")
    assert isinstance(got, adhoc.Reading) and got.query.by == ("status",)


@pytest.mark.parametrize(
    "text",
    [
        "sales by customer by month from 1 January 2026 to 15 March 2026",
        "sales by customer and month this year",
        "sales by month by customer this year",
    ],
)
def test_a_record_and_a_grain_together_are_both_kept(text: str) -> None:
    """'by customer by month' was read as by customer alone: a different question."""
    got = read(text, intent="out_of_scope")
    assert isinstance(got, adhoc.Reading), got
    assert (got.query.measure, got.query.by) == ("sales", ("customer", "month"))


def test_two_records_are_refused_not_cut_to_one() -> None:
    got = read("sales by customer and item last month", entities=FEB)
    assert isinstance(got, adhoc.Reading), got
    assert got.query.by == ("customer", "item")  # the engine refuses this, saying why


@pytest.mark.parametrize(
    ("text", "measure"),
    [
        ("how much did we collect from customers last week?", "receipts"),
        ("what did we collect in February", "receipts"),
        ("collections by customer", "receipts"),
        ("how much is still to be collected by customer", "open_ar"),
    ],
)
def test_money_collected_is_receipts_and_money_still_to_collect_is_receivables(
    text: str, measure: str
) -> None:
    # Read under the NLU's weak guess at sales: the measure the message names wins.
    got = read(text, entities=FEB)
    assert isinstance(got, adhoc.Reading), got
    assert got.query.measure == measure


def test_and_the_second_after_a_ranking_shows_the_ranking_down_to_that_place() -> None:
    first = read("which supplier do we owe the most?", intent="supplier_balance")
    assert isinstance(first, adhoc.Reading) and first.query.top == 1
    state = {"intent": adhoc.INTENT, adhoc.STATE_KEY: adhoc.remembered(first)}
    second = read("and the second?", intent="out_of_scope", state=state)
    assert isinstance(second, adhoc.Reading) and second.follow_up
    assert (second.query.measure, second.query.top) == (first.query.measure, 2)
    following = adhoc.remembered(second)
    nxt = read("and the next one?", intent="out_of_scope", state={adhoc.STATE_KEY: following})
    assert isinstance(nxt, adhoc.Reading) and nxt.query.top == 3
    # No ranking before: an ordinal changes nothing (the NLU answers it as it reads it).
    plain = read("sales by customer last month", entities=FEB)
    assert isinstance(plain, adhoc.Reading) and plain.query.top is None
    state = {adhoc.STATE_KEY: adhoc.remembered(plain)}
    assert read("and the second?", intent="out_of_scope", state=state) is None


def test_a_period_so_far_is_compared_with_the_same_days_of_the_period_before() -> None:
    quarter = AnalyticsQuery(
        measure="expenses",
        start=dt.date(2026, 10, 1),
        end=dt.date(2026, 12, 31),
        compare="previous_period",
    )
    # Cut at today (20 Nov): the same 51 days of the quarter before, not of two months before.
    assert compared_period(quarter, dt.date(2026, 10, 1), dt.date(2026, 11, 20)) == (
        dt.date(2026, 7, 1),
        dt.date(2026, 8, 20),
    )
    month = quarter.model_copy(update={"start": dt.date(2026, 11, 1), "end": dt.date(2026, 11, 30)})
    assert compared_period(month, dt.date(2026, 11, 1), dt.date(2026, 11, 20)) == (
        dt.date(2026, 10, 1),
        dt.date(2026, 10, 20),
    )


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        (
            "which purchase orders are waiting for my approval for more than a week?",
            "pending_approvals",
        ),
        ("invoices older than 30 days", "overdue_invoices"),
    ],
)
def test_more_than_a_duration_is_a_filter_not_a_comparison(text: str, intent: str) -> None:
    got = read(text, intent=intent)
    assert not (isinstance(got, adhoc.Reading) and got.query.compare), got


def test_a_weekday_filter_is_refused_by_name_not_dropped() -> None:
    got = read("how many invoices did we issue on weekends?", intent="sales_summary")
    assert isinstance(got, adhoc.Refusal), got
    assert "on weekends" in got.text and "day of the week" in got.text


def test_the_number_of_orders_is_a_count_of_sales_orders() -> None:
    got = read("top 3 customers by number of orders in november", intent="top_customers")
    assert isinstance(got, adhoc.Reading), got
    assert (got.query.measure, got.query.by, got.query.top) == ("order_count", ("customer",), 3)


@pytest.mark.parametrize(
    "text", ["how many invoices are unpaid?", "how many invoices are still open?"]
)
def test_open_invoices_are_counted_as_of_today_whatever_their_date(text: str) -> None:
    status = "open" if "open" in text else "unpaid"
    got = read(text, intent="invoice_status", entities={"status": status})
    assert isinstance(got, adhoc.Reading), got
    assert (got.query.measure, got.query.status) == ("open_invoices", None)


def test_open_invoices_of_a_named_period_are_those_issued_in_it_still_open() -> None:
    got = read(
        "how many unpaid invoices do we have from February?",
        intent="invoice_status",
        entities={**FEB, "status": "open"},
    )
    assert isinstance(got, adhoc.Reading), got
    assert (got.query.measure, got.query.status) == ("invoice_count", "unpaid")
    assert (got.query.start, got.query.end) == (dt.date(2026, 2, 1), dt.date(2026, 2, 28))


def test_overdue_invoices_are_counted_as_of_today_with_the_engines_overdue() -> None:
    got = read("how many invoices are overdue?", "overdue_invoices", {"status": "overdue"})
    assert isinstance(got, adhoc.Reading), got
    assert (got.query.measure, got.query.status) == ("open_invoices", "overdue")


@pytest.mark.parametrize(
    ("text", "intent", "entities", "measure"),
    [
        (
            "how many sales orders are waiting to be delivered?",
            "order_status",
            {"status": "delivered"},
            "open_orders",
        ),
        (
            "how many purchase orders are still waiting for delivery?",
            "purchase_orders",
            {},
            "open_pos",
        ),
    ],
)
def test_documents_waiting_for_delivery_are_the_open_ones_not_the_delivered(
    text: str, intent: str, entities: dict[str, str], measure: str
) -> None:
    got = read(text, intent, entities)
    assert isinstance(got, adhoc.Reading), got
    assert (got.query.measure, got.query.status) == (measure, None)


def test_a_policy_question_naming_a_measure_word_is_no_figure() -> None:
    assert read("what is the late payment penalty for customers?", "explain_policy") is None


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("how many employees do we have?", "employees"),
        ("how many new customers did we get this year?", "new"),
        ("which supplier bills are due this week?", "fall due"),
        ("what were my sales this week?", "your own sales"),
    ],
)
def test_what_no_record_holds_is_refused_by_name(text: str, says: str) -> None:
    got = read(text, "stock_levels")
    assert isinstance(got, adhoc.Refusal) and says in got.text, got


def test_a_ranking_after_what_were_the_keeps_its_record() -> None:
    got = read("what were the top 3 suppliers by purchases this year?", "purchase_orders")
    assert isinstance(got, adhoc.Reading), got
    assert (got.query.measure, got.query.by, got.query.top) == ("purchases", ("supplier",), 3)


def test_one_record_asked_of_a_fixed_list_is_ranked() -> None:
    got = read("which item do we have the most of?", "stock_levels")
    assert isinstance(got, adhoc.Reading), got
    assert (got.query.measure, got.query.by, got.query.top) == ("stock_quantity", ("item",), 1)


def test_money_received_from_customers_is_receipts() -> None:
    got = read("how much did we receive from customers in February?", "sales_summary", FEB)
    assert isinstance(got, adhoc.Reading) and got.query.measure == "receipts", got
