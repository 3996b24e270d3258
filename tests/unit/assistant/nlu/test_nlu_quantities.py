from __future__ import annotations

from decimal import Decimal

import pytest

from companion.assistant.nlu.entities.quantities import extract_quantities

D = Decimal


@pytest.mark.parametrize(
    ("text", "quantity", "unit", "price"),
    [
        ("120 units at 45 each", D(120), "units", D(45)),
        ("500 reams @ 380", D(500), "reams", D(380)),
        ("40 cans at 1,200", D(40), "cans", D(1200)),
        ("10 tons of cement at ৳9,800 per ton", D(10), "tons", D(9800)),
        ("1000 pcs @ 2.80", D(1000), "pcs", D("2.8")),
        ("sell 50 bags of cement to Star Builders", D(50), "bags", None),
        ("qty 10", D(10), None, None),
        ("quantity of 25", D(25), None, None),
        ("adjust stock of cement by -5", D(-5), None, None),
        ("adjust ITEM-0042 quantity by +8", D(8), None, None),
        ("increase LED bulbs stock by 20", D(20), None, None),
        ("write off 3 damaged pieces", D(3), "pieces", None),
    ],
)
def test_quantity_unit_and_price(
    text: str, quantity: Decimal, unit: str | None, price: Decimal | None
) -> None:
    found = extract_quantities(text)
    assert found.quantity == quantity
    assert found.unit == unit
    assert found.unit_price == price


@pytest.mark.parametrize(
    ("text", "price", "currency"),
    [
        ("buy PVC pipes at ৳250 each", D(250), "BDT"),
        ("laptops at $850 apiece", D(850), "USD"),
        ("copper wire at 900 per unit", D(900), None),
    ],
)
def test_unit_price_without_quantity(text: str, price: Decimal, currency: str | None) -> None:
    found = extract_quantities(text)
    assert found.unit_price == price
    assert found.currency == currency


@pytest.mark.parametrize(
    "text",
    [
        "raise a PO for 15,000",
        "balance at City Bank",
        "top 5 customers",
        "overdue by more than 30 days",
        "sales grew by 5%",
        "what's the weather",
    ],
)
def test_no_quantity_or_price(text: str) -> None:
    found = extract_quantities(text)
    assert found.quantity is None
    assert found.unit_price is None
