"""Writing figures into sentences: grouping, money, quantities, dates and periods."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from companion.assistant.answers import (
    AnswerFormat,
    date_text,
    group_digits,
    join_words,
    percent_text,
    period_text,
)


@pytest.mark.parametrize(
    ("value", "locale", "places", "expected"),
    [
        (Decimal("1234567"), "en", 0, "1,234,567"),
        (Decimal("1234567"), "en_IN", 0, "12,34,567"),
        (Decimal("1234567.891"), "en_IN", 2, "12,34,567.89"),
        (Decimal("999"), "en_IN", 0, "999"),
        (Decimal("1000"), "bn_BD", 0, "1,000"),
        (Decimal("100000"), "bn", 0, "1,00,000"),
        (Decimal("-1234.5"), "en", 1, "-1,234.5"),
        (Decimal("0.005"), "en", 2, "0.01"),
        (7, "en", 0, "7"),
    ],
)
def test_group_digits(value: Decimal | int, locale: str, places: int, expected: str) -> None:
    assert group_digits(value, locale, places) == expected


def test_money_uses_company_currency_and_locale() -> None:
    assert AnswerFormat("BDT", "en_IN").money(Decimal("1234567")) == "BDT 12,34,567.00"
    assert AnswerFormat("USD").money(Decimal("1234567.5")) == "USD 1,234,567.50"
    assert AnswerFormat("USD").money(Decimal("-12.345")) == "-USD 12.35"


def test_quantity_drops_trailing_zeros_and_names_the_unit() -> None:
    fmt = AnswerFormat("USD")
    assert fmt.quantity(Decimal("1250.000"), "unit") == "1,250 units"
    assert fmt.quantity(Decimal("1.000"), "unit") == "1 unit"
    assert fmt.quantity(Decimal("12.500"), "kg") == "12.5 kg"
    assert fmt.quantity(Decimal("0.000")) == "0"
    assert AnswerFormat("BDT", "en_IN").quantity(Decimal("120000"), "box") == "1,20,000 box"


def test_count_pluralises_with_grouping() -> None:
    fmt = AnswerFormat("BDT", "en_IN")
    assert fmt.count(1, "invoice") == "1 invoice"
    assert fmt.count(0, "invoice") == "0 invoices"
    assert fmt.count(120000, "invoice") == "1,20,000 invoices"
    assert fmt.count(2, "invoice is", "invoices are") == "2 invoices are"


def test_dates_and_periods() -> None:
    d = dt.date
    assert date_text(d(2026, 11, 3)) == "3 Nov 2026"
    assert period_text(d(2026, 11, 3), d(2026, 11, 3)) == "3 Nov 2026"
    assert period_text(d(2026, 10, 1), d(2026, 10, 31)) == "October 2026"
    assert period_text(d(2024, 2, 1), d(2024, 2, 29)) == "February 2024"
    assert period_text(d(2026, 11, 1), d(2026, 11, 23)) == "1–23 Nov 2026"
    assert period_text(d(2026, 1, 1), d(2026, 12, 31)) == "2026"
    assert period_text(d(2026, 10, 5), d(2026, 11, 23)) == "5 Oct – 23 Nov 2026"
    assert period_text(d(2025, 11, 24), d(2026, 11, 23)) == "24 Nov 2025 – 23 Nov 2026"


def test_words_and_percent() -> None:
    assert join_words([]) == ""
    assert join_words(["A"]) == "A"
    assert join_words(["A", "B"]) == "A and B"
    assert join_words(["A", "B", "C"]) == "A, B and C"
    assert percent_text(Decimal("1"), Decimal("3")) == "33.3%"
    assert percent_text(Decimal("5"), Decimal("0")) == "0.0%"
