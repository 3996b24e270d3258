"""Choices offered with an answer ("Did you mean …?", "I can show …") and the reply picking one.

An answer that offers choices remembers, for each, the question it stands for (intent and
entities) under ``state["offer"]``. The next message picks one by its label ("Tangail
Traders"), by position ("the first one", "2") or, when only one was offered, by saying yes;
a yes to several asks the question again. The offer lasts one reply: the assistant drops it
from the state when the next answer doesn't renew it. Pure functions, unit-tested.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from companion.assistant.state import OFFER, ConversationState, Offer, OfferedChoice

__all__ = ["OFFER", "Pick", "offer", "pick"]

_YES = r"yes|yeah|yep|yup|ok|okay|sure|right|correct|exactly"
_FILLER = re.compile(rf"^(?:(?:{_YES})(?:\s+|$))*(?:(?:that|it)\s+is(?:\s+|$)|i\s+meant?\s+)?")
_THANKS = re.compile(r"(?:(?:^|\s+)(?:please|thanks|thank\s+you))+$")
_ORDINALS = {"first": 0, "1st": 0, "second": 1, "2nd": 1, "third": 2, "3rd": 2}
_ORDINALS |= {"fourth": 3, "4th": 3, "fifth": 4, "5th": 4, "last": -1}
_POSITION = re.compile(
    r"^(?:the\s+)?(?:option\s+|number\s+|no\s+|choice\s+)?"
    r"(first|second|third|fourth|fifth|last|[1-5](?:st|nd|rd|th)?)(?:\s+(?:one|option|choice))?$"
)


@dataclass(frozen=True)
class Pick:
    """The question a reply to an offer stands for; ``again``: ask the offered question again."""

    intent: str
    entities: dict[str, Any]
    again: bool = False


def offer(choices: list[tuple[str, str, dict[str, Any]]], asked: dict[str, Any]) -> dict[str, Any]:
    """The state of an answer offering ``choices`` (label, intent, entities) for ``asked``."""
    offered = tuple(OfferedChoice(label, intent, entities) for label, intent, entities in choices)
    return Offer(offered, asked["intent"], asked["entities"]).to_json()


def pick(state: ConversationState, text: str, intent: str) -> Pick | None:
    """The offered question this message picks, or None when it picks none."""
    offered = state.offer
    if offered is None:
        return None
    choices = offered.choices
    said = _plain(text)
    core = _THANKS.sub("", _FILLER.sub("", said)).strip()
    chosen = next((c for c in choices if _plain(c.label) in (said, core)), None)
    if chosen is None and core:
        position = _POSITION.match(core)
        if position is not None:
            index = _index(position.group(1))
            if -len(choices) <= index < len(choices):
                chosen = choices[index]
    if chosen is None and (intent == "confirm" or (said and not core)):
        if len(choices) != 1:
            return Pick(str(offered.asked_intent), dict(offered.asked_entities), again=True)
        chosen = choices[0]
    if chosen is None:
        return None
    return Pick(chosen.intent, dict(chosen.entities))


def _index(word: str) -> int:
    if word in _ORDINALS:
        return _ORDINALS[word]
    return int(re.sub(r"\D", "", word)) - 1


def _plain(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(re.sub(r"[^\w&]+", " ", folded).split())
