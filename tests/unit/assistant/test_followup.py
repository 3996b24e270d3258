"""Follow-up rules: refinements keep the previous question; new topics start fresh."""

from __future__ import annotations

from companion.assistant.followup import resolve, shift_period
from companion.assistant.state import ConversationState

DATA = frozenset({"sales_summary", "cash_balance", "overdue_invoices", "customer_balance"})
LAST_MONTH = {"start": "2026-10-01", "end": "2026-10-31"}
PREVIOUS = ConversationState.from_json(
    {"intent": "sales_summary", "entities": {"period": LAST_MONTH}}
)


def test_the_month_before_shifts_the_previous_period() -> None:
    r = resolve(
        PREVIOUS, "what about the month before?", "out_of_scope", 0.3, {}, data_intents=DATA
    )
    assert r.follow_up
    assert r.intent == "sales_summary"
    assert r.entities["period"] == {"start": "2026-09-01", "end": "2026-09-30"}


def test_only_for_a_customer_keeps_intent_and_period() -> None:
    customer = {"text": "rahman", "id": 7, "name": "Rahman Traders"}
    r = resolve(
        PREVIOUS, "only for rahman", "customer_balance", 0.4, {"customer": customer},
        data_intents=DATA,
    )  # fmt: skip
    assert r.follow_up and r.intent == "sales_summary"
    assert r.entities == {"period": LAST_MONTH, "customer": customer}


def test_a_confident_new_question_starts_fresh() -> None:
    r = resolve(PREVIOUS, "what's our cash balance", "cash_balance", 0.97, {}, data_intents=DATA)
    assert not r.follow_up
    assert r.intent == "cash_balance" and r.entities == {}


def test_refinement_with_a_new_period_replaces_the_old_one() -> None:
    this_year = {"start": "2026-01-01", "end": "2026-11-23"}
    r = resolve(
        PREVIOUS, "and this year?", "sales_summary", 0.5, {"period": this_year}, data_intents=DATA
    )
    assert r.follow_up and r.entities["period"] == this_year


def test_small_talk_after_a_question_is_not_merged() -> None:
    r = resolve(PREVIOUS, "thanks!", "greet", 0.9, {}, data_intents=DATA)
    assert not r.follow_up and r.intent == "greet"


def test_no_previous_question_means_no_follow_up() -> None:
    r = resolve(
        ConversationState(),
        "what about the month before?",
        "out_of_scope",
        0.3,
        {},
        data_intents=DATA,
    )
    assert not r.follow_up and r.intent == "out_of_scope"


def test_an_awaited_answer_fills_the_missing_slot() -> None:
    state = ConversationState.from_json(
        {"intent": "customer_balance", "entities": {}, "awaiting": "customer_id"}
    )
    customer = {"text": "globe", "id": 3, "name": "Globe Foods"}
    r = resolve(
        state, "Globe Foods", "customer_list", 0.5, {"customer": customer}, data_intents=DATA
    )
    assert r.follow_up and r.intent == "customer_balance"
    assert r.entities["customer"] == customer


def test_shift_period_by_each_unit() -> None:
    q3 = {"start": "2026-07-01", "end": "2026-09-30"}
    assert shift_period(q3, "quarter") == {"start": "2026-04-01", "end": "2026-06-30"}
    assert shift_period(LAST_MONTH, "year") == {"start": "2025-10-01", "end": "2025-10-31"}
    week = {"start": "2026-11-16", "end": "2026-11-22"}
    assert shift_period(week, "week") == {"start": "2026-11-09", "end": "2026-11-15"}
    # a month-to-date window moves to the same days of the previous month
    mtd = {"start": "2026-03-01", "end": "2026-03-15"}
    assert shift_period(mtd, "month") == {"start": "2026-02-01", "end": "2026-02-15"}
    # the end of a 31-day month maps onto the last day of February
    assert shift_period({"start": "2026-03-01", "end": "2026-03-31"}, "month") == {
        "start": "2026-02-01",
        "end": "2026-02-28",
    }


def test_an_ambiguous_name_is_a_question_with_choices() -> None:
    from companion.assistant.skills.data_query import ambiguity

    entities = {
        "customer": {
            "text": "khulna",
            "id": None,
            "name": None,
            "candidates": [
                {"id": 1, "name": "Khulna Emporium"},
                {"id": 2, "name": "Khulna Distributors"},
            ],
        }
    }
    assert ambiguity(entities, frozenset({"customer_id"})) == (
        "customer",
        ["Khulna Emporium", "Khulna Distributors"],
    )
    assert ambiguity(entities, frozenset({"period"})) is None
    resolved = {"customer": {"text": "khulna emporium", "id": 1, "name": "Khulna Emporium"}}
    assert ambiguity(resolved, frozenset({"customer_id"})) is None
