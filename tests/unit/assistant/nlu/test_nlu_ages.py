"""A bound on days ("overdue by more than 60 days") is an entity, never a period or amount."""

from __future__ import annotations

import datetime as dt

import pytest

from companion.assistant.nlu.delex import delexicalise
from companion.assistant.nlu.entities import extract_entities
from companion.assistant.nlu.entities.ages import extract_age

TODAY = dt.date(2026, 3, 15)


@pytest.mark.parametrize(
    ("text", "low", "high", "said"),
    [
        ("which invoices are overdue by more than 60 days?", 61, None, "more than 60 days"),
        ("POs pending approval for over 10 days", 11, None, "over 10 days"),
        ("purchase orders waiting more than a week", 8, None, "more than a week"),
        ("orders older than 2 weeks", 15, None, "older than 2 weeks"),
        ("bills at least two weeks late", 14, None, "at least two weeks"),
        ("invoices 60+ days overdue", 60, None, "60+ days"),
        ("invoices 90 days or more overdue", 90, None, "90 days or more"),
        ("invoices overdue by less than 30 days", None, 29, "less than 30 days"),
        ("overdue by no more than 3 months", None, 90, "no more than 3 months"),
    ],
)
def test_a_day_bound_is_read_with_inclusive_whole_days(
    text: str, low: int | None, high: int | None, said: str
) -> None:
    age = extract_age(text)
    assert age is not None
    assert (age.min_days, age.max_days, age.text) == (low, high, said)
    entities = extract_entities(text, today=TODAY).entities
    assert entities["age"] == {"min_days": low, "max_days": high, "text": said}
    assert "amount_range" not in entities and "period" not in entities


@pytest.mark.parametrize(
    "text",
    [
        "sales over 5000",
        "sales in the last 3 months",
        "sales over the past 2 weeks",
        "invoices due in 30 days",
        "more than 0 days",
        "which invoices are overdue?",
    ],
)
def test_no_day_bound_where_none_is_said(text: str) -> None:
    assert "age" not in extract_entities(text, today=TODAY).entities


def test_the_bound_is_left_out_of_what_the_classifier_reads() -> None:
    text = "stock levels older than 90 days"
    found = extract_entities(text, today=TODAY)
    assert delexicalise(text, found.spans) == "stock levels"
