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


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("stock value in the Chittagong warehouse", "Chittagong"),
        ("stock in the Rangpur depot", "Rangpur"),
        ("how much is in our Khulna godown?", "Khulna"),
        ("stock levels in the Rangpur Hub", "Rangpur Hub"),
        # In the user's own lower-case words: was answered for every warehouse, unsaid.
        ("value of stock in the main warehouse", "main"),
        ("how many bulbs are left in our central depot?", "central"),
    ],
)
def test_a_warehouse_named_before_its_cue_word_or_after_an_article_is_reported(
    text: str, name: str
) -> None:
    found = unknown(text)
    assert set(found) == {"warehouse"}
    assert found["warehouse"]["text"] == name


@pytest.mark.parametrize(
    "text",
    [
        "no, the other warehouse",
        "stock value by warehouse",
        "which is the biggest warehouse by stock value?",
        "stock in the warehouse",
        "use our usual depot",
        "stock of LED Bulb in the Dhaka warehouse",
        "what's in each warehouse",
    ],
)
def test_words_saying_which_warehouse_without_naming_one_are_no_unknown_name(text: str) -> None:
    assert unknown(text) == {}


def test_a_company_with_few_warehouses_is_offered_all_of_them_closest_first() -> None:
    master = MasterData.build(
        warehouses=[(1, "Dhaka Central"), (2, "Chattogram Port Depot"), (3, "Sylhet Depot")]
    )
    found = extract_entities("stock in the Chittagong warehouse", today=TODAY, master=master)
    names = [s["name"] for s in found.entities["warehouse"]["suggestions"]]
    assert names[0] == "Chattogram Port Depot"
    assert sorted(names) == ["Chattogram Port Depot", "Dhaka Central", "Sylhet Depot"]


def test_the_start_of_several_names_followed_by_more_of_a_name_names_none_of_them() -> None:
    master = MasterData.build(
        customers=[(1, "Rangpur Electronics"), (2, "Rangpur Telecom")],
        warehouses=[(31, "Dhaka Warehouse")],
    )
    for text, name in (
        ("stock levels in Rangpur Hub", "Rangpur Hub"),
        ("stock at the Rangpur warehouse", "Rangpur"),
    ):
        entities = extract_entities(text, today=TODAY, master=master).entities
        assert "customer" not in entities, text
        assert entities["warehouse"] == {**entities["warehouse"], "text": name, "unknown": True}
    # The start of several names, and nothing more: which one is asked.
    entities = extract_entities("sales for Rangpur last month", today=TODAY, master=master)
    assert len(entities.entities["customer"]["candidates"]) == 2
    # A name that goes on as one of them does is that one.
    entities = extract_entities("sales for Rangpur Telecom", today=TODAY, master=master)
    assert entities.entities["customer"]["id"] == 2
