"""Unknown names in the places a question puts a party or product without a cue word: the
subject of a verb of buying, ordering, paying or owing, and "how many <product>"."""

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
TODAY = dt.date(2026, 11, 20)


def unknown(text: str) -> dict[str, dict[str, object]]:
    entities = extract_entities(text, today=TODAY, master=MASTER).entities
    return {k: v for k, v in entities.items() if isinstance(v, dict) and v.get("unknown")}


@pytest.mark.parametrize(
    ("text", "name", "kinds"),
    [
        (
            "when was the last time Zebra Foods bought anything?",
            "Zebra Foods",
            {"customer", "supplier"},
        ),
        ("the last time Zebra Foods ordered", "Zebra Foods", {"customer", "supplier"}),
        ("has Zebra Foods paid yet?", "Zebra Foods", {"customer", "supplier"}),
        ("how many Samsung Galaxy S24 do we have in stock?", "Samsung Galaxy S24", {"product"}),
    ],
)
def test_a_subject_or_counted_name_that_matches_no_record_is_reported(
    text: str, name: str, kinds: set[str]
) -> None:
    found = unknown(text)
    assert set(found) == kinds
    assert {v["text"] for v in found.values()} == {name}


@pytest.mark.parametrize(
    "text",
    [
        "when did Bengal Foods last buy?",  # a known name is no unknown one
        "how many LED Bulb do we have?",
        "Everyone paid on time?",  # one capitalised word opening the message
        "which customers bought the most?",
        "how many invoices are overdue?",
    ],
)
def test_known_names_and_generic_words_are_no_unknown_name(text: str) -> None:
    assert unknown(text) == {}
