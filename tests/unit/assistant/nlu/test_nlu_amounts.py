from __future__ import annotations

from decimal import Decimal

import pytest

from companion.assistant.nlu.entities.amounts import extract_amounts, find_money
from companion.assistant.nlu.entities.numbers import parse_number

D = Decimal


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("10k", D(10_000)),
        ("1.5m", D(1_500_000)),
        ("2 lakh", D(200_000)),
        ("2.5 lakh", D(250_000)),
        ("1 crore", D(10_000_000)),
        ("3 crores", D(30_000_000)),
        ("1,00,000", D(100_000)),
        ("1,234,567.50", D("1234567.5")),
        ("12 thousand", D(12_000)),
        ("2bn", D(2_000_000_000)),
        ("twelve", D(12)),
        ("450", D(450)),
    ],
)
def test_parse_number_reads_scales_and_separators(text: str, value: Decimal) -> None:
    assert parse_number(text) == value


@pytest.mark.parametrize("text", ["abc", "", "1.2.3", "ten thousand and six"])
def test_parse_number_refuses_non_numbers(text: str) -> None:
    assert parse_number(text) is None


@pytest.mark.parametrize(
    ("text", "amount", "currency"),
    [
        ("record a payment of 25k from Rahim", D(25_000), None),
        ("received ৳75,000 into City Bank", D(75_000), "BDT"),
        ("Nova paid $4,500", D(4_500), "USD"),
        ("charge them €2,000", D(2_000), "EUR"),
        ("a cheque for £12.50", D("12.5"), "GBP"),
        ("we got 3,000 USD from Northwind", D(3_000), "USD"),
        ("pay 1 crore taka", D(10_000_000), "BDT"),
        ("apply $1.5m to their invoices", D(1_500_000), "USD"),
        ("paid 50000 yesterday", D(50_000), None),
        ("transferred 2 lakh", D(200_000), None),
        ("EUR 1,200 was deposited", D(1_200), "EUR"),
        ("Tk 5,000 received", D(5_000), "BDT"),
    ],
)
def test_amount_and_currency(text: str, amount: Decimal, currency: str | None) -> None:
    found = extract_amounts(text)
    assert found.amount == amount
    assert found.currency == currency
    assert found.range is None


@pytest.mark.parametrize(
    ("text", "low", "high"),
    [
        ("purchase orders over 50k", D(50_000), None),
        ("invoices above ৳2,00,000", D(200_000), None),
        ("more than 1 lakh", D(100_000), None),
        ("at least 5,000", D(5_000), None),
        ("POs below 10k", None, D(10_000)),
        ("under 5,000", None, D(5_000)),
        ("less than $300", None, D(300)),
        ("up to 2.5 lakh", None, D(250_000)),
        ("between 10k and 1 lakh", D(10_000), D(100_000)),
        ("between 10 and 20k", D(10_000), D(20_000)),
        ("from 10k to 20k", D(10_000), D(20_000)),
        ("between ৳5,000 and ৳10,000", D(5_000), D(10_000)),
        ("between 1 crore and 50 lakh", D(5_000_000), D(10_000_000)),
    ],
)
def test_amount_bounds(text: str, low: Decimal | None, high: Decimal | None) -> None:
    found = extract_amounts(text)
    assert found.range is not None
    assert (found.range.min, found.range.max) == (low, high)
    assert found.amount is None


@pytest.mark.parametrize(
    "text",
    [
        "invoices overdue by more than 30 days",
        "top 5 customers",
        "approve PO-2026-0042",
        "stock in WH-02",
        "A4 paper",
        "sales in 2025",
        "how many units of 45",
        "growth over 5%",
        "what's the weather",
        "নগদ কত আছে? 😀",
    ],
)
def test_no_amount_from_non_money_numbers(text: str) -> None:
    found = extract_amounts(text)
    assert found.amount is None
    assert found.range is None


def test_standalone_currency_code_is_reported() -> None:
    assert extract_amounts("cash balance in usd").currency == "USD"
    assert extract_amounts("show it in taka").currency == "BDT"
    assert extract_amounts("what's our cash").currency is None


def test_find_money_marks_explicit_values_and_offsets() -> None:
    text = "pay ৳1,200 and 45"
    money = find_money(text)
    assert [m.value for m in money] == [D(1200), D(45)]
    assert money[0].explicit and not money[1].explicit
    assert text[money[0].start : money[0].end] == "৳1,200"


def test_amount_spans_cover_the_bound_phrase() -> None:
    text = "POs over 50k last month"
    found = extract_amounts(text)
    assert [text[s:e] for s, e in found.spans] == ["over 50k"]
