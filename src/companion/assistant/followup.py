"""Follow-ups: a short refinement ("what about the month before?", "only for Rahman") keeps
the previous question and changes what it names; a new topic starts fresh.

Pure functions over the conversation's remembered state, so the rules are unit-tested.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from companion.assistant import choices
from companion.assistant.nlu.entities.calendar import add_months, month_end
from companion.assistant.state import ConversationState

_REFINEMENT = re.compile(
    r"^\s*(and\b|but\b|what about|how about|what of|same\b|now\b|only\b|just\b|for\b|in\b|"
    r"by\b|from\b|at\b|with\b|excluding\b|the (day|week|month|quarter|year) before|"
    r"(the )?previous|prior|compared|vs\.?\b|versus)",
    re.IGNORECASE,
)
_SHIFT = re.compile(
    r"\b(?:the\s+)?(day|week|month|quarter|year)\s+before\b|"
    r"\b(?:previous|prior|preceding)\s+(day|week|month|quarter|year)\b",
    re.IGNORECASE,
)
CONFIDENT = 0.6


@dataclass(frozen=True)
class Resolved:
    intent: str
    confidence: float
    entities: dict[str, Any]
    follow_up: bool
    # "choice": the message picked a choice the last answer offered (it answers that answer,
    # whatever else is open); "again": a yes to several choices, which asks again.
    picked: str | None = None


def resolve(
    state: ConversationState,
    text: str,
    intent: str,
    confidence: float,
    entities: dict[str, Any],
    *,
    data_intents: frozenset[str],
) -> Resolved:
    """Merge this message with the previous question when it is a follow-up to it."""
    fresh = Resolved(intent, confidence, entities, follow_up=False)
    chosen = choices.pick(state, text, intent)
    if chosen is not None and chosen.intent in data_intents:
        how = "again" if chosen.again else "choice"
        return Resolved(chosen.intent, 1.0, chosen.entities, follow_up=True, picked=how)
    if state.intent is None or state.intent not in data_intents:
        return fresh
    prev_intent = state.intent
    prev_entities = state.question
    awaiting = state.awaiting
    if awaiting and _fills(awaiting, entities):
        return Resolved(prev_intent, confidence, {**prev_entities, **entities}, follow_up=True)
    shift = _SHIFT.search(text)
    refining = bool(_REFINEMENT.match(text)) or shift is not None
    new_topic = intent in data_intents and intent != prev_intent and confidence >= CONFIDENT
    if new_topic and not refining:
        return fresh
    if not refining and intent == prev_intent:
        return fresh
    if not refining and confidence >= CONFIDENT:
        return fresh
    if not entities and shift is None:
        return fresh
    merged = {**prev_entities, **entities}
    if (
        shift is not None
        and "period" not in entities
        and isinstance(prev_entities.get("period"), dict)
    ):
        unit = (shift.group(1) or shift.group(2)).lower()
        merged["period"] = shift_period(prev_entities["period"], unit)
    return Resolved(prev_intent, max(confidence, CONFIDENT), merged, follow_up=True)


def _fills(awaiting: str, entities: dict[str, Any]) -> bool:
    name = awaiting.removesuffix("_id")
    return name in entities or (name == "item" and "product" in entities)


def shift_period(period: dict[str, Any], unit: str) -> dict[str, str]:
    """The period one ``unit`` earlier: a whole month becomes the month before, and so on."""
    start = dt.date.fromisoformat(str(period["start"]))
    end = dt.date.fromisoformat(str(period["end"]))
    if unit == "day":
        return _iso(start - dt.timedelta(days=1), end - dt.timedelta(days=1))
    if unit == "week":
        return _iso(start - dt.timedelta(days=7), end - dt.timedelta(days=7))
    months = {"month": 1, "quarter": 3, "year": 12}[unit]
    new_start, new_end = add_months(start, -months), add_months(end, -months)
    if start.day == 1 and end == month_end(end.year, end.month):
        return _iso(new_start, month_end(new_end.year, new_end.month))
    return _iso(new_start, new_end)


def _iso(start: dt.date, end: dt.date) -> dict[str, str]:
    return {"start": start.isoformat(), "end": end.isoformat()}
