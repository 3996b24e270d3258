"""Replies to offered choices: by label, by position, by yes; anything else picks nothing."""

from __future__ import annotations

import pytest

from companion.assistant.choices import offer, pick
from companion.assistant.followup import resolve
from companion.assistant.state import ConversationState

ASKED = {"intent": "sales_summary", "entities": {"customer": {"text": "tangl", "id": None}}}
RAHMAN = {"customer": {"text": "Rahman Traders", "id": 7, "name": "Rahman Traders"}}
GLOBE = {"customer": {"text": "Globe Foods", "id": 3, "name": "Globe Foods"}}
TWO = ConversationState.from_json({"offer": offer([("Rahman Traders", "sales_summary", RAHMAN),
                       ("Globe Foods", "customer_balance", GLOBE)], ASKED)})  # fmt: skip
ONE = ConversationState.from_json(
    {"offer": offer([("Rahman Traders", "sales_summary", RAHMAN)], ASKED)}
)


@pytest.mark.parametrize(
    ("text", "intent", "entities"),
    [
        ("Globe Foods", "customer_balance", GLOBE),
        ("globe foods.", "out_of_scope", GLOBE),
        ("yes, Globe Foods please", "confirm", GLOBE),
        ("I meant Globe Foods", "out_of_scope", GLOBE),
        ("the first one", "out_of_scope", RAHMAN),
        ("2", "out_of_scope", GLOBE),
        ("the 2nd one", "out_of_scope", GLOBE),
        ("the last one", "out_of_scope", GLOBE),
        ("option 1", "out_of_scope", RAHMAN),
    ],
)
def test_a_choice_is_picked_by_label_or_position(text: str, intent: str, entities: dict) -> None:
    chosen = pick(TWO, text, intent)
    assert chosen is not None and not chosen.again
    assert chosen.entities == entities
    assert chosen.intent == ("customer_balance" if entities is GLOBE else "sales_summary")


@pytest.mark.parametrize(
    ("text", "intent"),
    [("yes", "confirm"), ("yes please", "greet"), ("👍", "confirm"), ("ok", "out_of_scope")],
)
def test_yes_picks_the_only_choice_and_asks_again_among_several(text: str, intent: str) -> None:
    only = pick(ONE, text, intent)
    assert only is not None and (only.intent, only.entities, only.again) == (
        "sales_summary", RAHMAN, False)  # fmt: skip
    several = pick(TWO, text, intent)
    assert several is not None and several.again
    assert (several.intent, several.entities) == (ASKED["intent"], ASKED["entities"])


@pytest.mark.parametrize(
    ("text", "intent"),
    [("no", "cancel"), ("3", "out_of_scope"), ("sales last year", "sales_summary"),
     ("Globe", "customer_balance"), ("👎", "cancel")],
)  # fmt: skip
def test_anything_else_picks_nothing(text: str, intent: str) -> None:
    assert pick(TWO, text, intent) is None
    assert pick(ConversationState(intent="sales_summary", entities={}), "yes", "confirm") is None


def test_resolve_turns_a_pick_into_the_offered_question() -> None:
    data = frozenset({"sales_summary", "customer_balance"})
    r = resolve(TWO, "the second one", "out_of_scope", 0.2, {}, data_intents=data)
    assert (r.intent, r.entities, r.follow_up, r.picked) == (
        "customer_balance",
        GLOBE,
        True,
        "choice",
    )
    again = resolve(TWO, "yes", "confirm", 0.99, {}, data_intents=data)
    assert (again.intent, again.picked) == ("sales_summary", "again")
    # A choice of a question this assistant doesn't answer is no pick.
    other = resolve(TWO, "Globe Foods", "greet", 0.9, {}, data_intents=frozenset({"sales_summary"}))
    assert other.picked is None and other.intent == "greet"
