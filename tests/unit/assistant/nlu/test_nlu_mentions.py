from __future__ import annotations

import datetime as dt

import pytest

from companion.assistant.nlu.entities import extract_entities
from companion.assistant.nlu.entities.master import MasterData

MASTER = MasterData.build(
    customers=[(1, "Rahim Traders Ltd"), (2, "Bengal Foods")],
    suppliers=[(11, "Karim Steel")],
    products=[(21, "LED Bulb")],
    warehouses=[(31, "Dhaka Warehouse")],
)
TODAY = dt.date(2026, 3, 15)


def unknown(text: str) -> dict[str, dict[str, object]]:
    entities = extract_entities(text, today=TODAY, master=MASTER).entities
    return {k: v for k, v in entities.items() if isinstance(v, dict) and v.get("unknown")}


@pytest.mark.parametrize(
    ("text", "name", "kinds"),
    [
        ("sales to Zebra Foods this year", "Zebra Foods", {"customer", "supplier"}),
        ("how much does Zebra Foods owe us", "Zebra Foods", {"customer", "supplier"}),
        ("balance of customer Zebra", "Zebra", {"customer"}),
        ("what do we owe Acme Widgets", "Acme Widgets", {"customer", "supplier"}),
        ("stock at Rangpur Hub", "Rangpur Hub", {"warehouse"}),
        ("sales to zebra foods ltd", "zebra foods ltd", {"customer", "supplier"}),
        ("purchases from Gazipur & Sons", "Gazipur & Sons", {"customer", "supplier"}),
    ],
)
def test_a_name_like_span_that_matches_no_record_is_reported(
    text: str, name: str, kinds: set[str]
) -> None:
    found = unknown(text)
    assert set(found) == kinds
    assert {v["text"] for v in found.values()} == {name}
    assert all(v["id"] is None for v in found.values())


@pytest.mark.parametrize(
    "text",
    [
        "top customers",
        "which customers owe us",
        "customer list",
        "show the customer list for March",
        "sales this month",
        "how much does Rahim Traders owe us",
        "sales to Bengal Foods in Q1",
        "what do we owe Karim Steel",
        "stock of LED Bulb in Dhaka Warehouse",
        "what is the cash balance in BDT",
        "invoices for last month",
        "sales to customers in March",
    ],
)
def test_generic_words_and_known_names_are_no_unknown_name(text: str) -> None:
    assert unknown(text) == {}


def test_close_records_of_the_company_are_suggested() -> None:
    found = unknown("sales to Bangal Fud please")
    assert [s["name"] for s in found["customer"]["suggestions"]] == ["Bengal Foods"]
    assert found["supplier"]["suggestions"] == []


def test_a_known_name_of_a_kind_wins_over_an_unknown_one() -> None:
    entities = extract_entities(
        "sales to Bengal Foods of Zebra Phone", today=TODAY, master=MASTER
    ).entities
    assert entities["customer"]["id"] == 2
    assert entities["product"]["unknown"] is True
    assert entities["product"]["text"] == "Zebra Phone"
