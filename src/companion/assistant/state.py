"""What a conversation keeps between turns, and what an answer says beyond its text.

``Conversation.state`` is a JSON column; ``ConversationState`` is its one reader and writer.
``from_json`` reads every shape stored so far (old conversations keep working) and keeps
keys it doesn't know as they were; ``to_json`` writes the same shapes back. The pieces:

- the last question (``intent``, ``entities``) and the slot it waits for (``awaiting``);
- ``offer``: the choices the last answer offered (``assistant.choices``), for one reply;
- ``action``: an action being drafted (``skills.actions``), kept over questions in between;
- ``analytics``: an ad-hoc answer's query, for its follow-ups (``assistant.adhoc``);
- ``import_id``: the import the last answer described.

``AnswerMeta`` is the same for ``Answer.extra``: the model's use, an action's outcome and
how documents and data were weighed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

INTENT = "intent"
ENTITIES = "entities"
AWAITING = "awaiting"
OFFER = "offer"
ACTION = "action"
ANALYTICS = "analytics"
IMPORT_ID = "import_id"
_KNOWN = (INTENT, ENTITIES, AWAITING, OFFER, ACTION, ANALYTICS, IMPORT_ID)


def _mapping(value: Any) -> dict[str, Any] | None:
    return dict(value) if isinstance(value, Mapping) else None


def _text(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


@dataclass(frozen=True)
class OfferedChoice:
    """One choice an answer offered: its label and the question it stands for."""

    label: str
    intent: str
    entities: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"label": self.label, "intent": self.intent, "entities": self.entities}

    @classmethod
    def from_json(cls, value: Any) -> OfferedChoice | None:
        """The choice stored as ``value``, or None when it has no label or intent."""
        if not isinstance(value, Mapping) or "label" not in value or "intent" not in value:
            return None
        return cls(str(value["label"]), str(value["intent"]), _mapping(value.get(ENTITIES)) or {})


@dataclass(frozen=True)
class Offer:
    """The choices the last answer offered, and the question they answer (asked again on a
    yes to several of them)."""

    choices: tuple[OfferedChoice, ...]
    asked_intent: str | None = None
    asked_entities: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "choices": [c.to_json() for c in self.choices],
            "asked": {"intent": self.asked_intent, "entities": self.asked_entities},
        }

    @classmethod
    def from_json(cls, value: Any) -> Offer | None:
        """The offer stored as ``value``; None when it offers nothing."""
        if not isinstance(value, Mapping) or not isinstance(value.get("choices"), list):
            return None
        offered = (OfferedChoice.from_json(c) for c in value["choices"])
        kept = tuple(c for c in offered if c is not None)
        if not kept:
            return None
        asked = _mapping(value.get("asked")) or {}
        intent = asked.get(INTENT)
        return cls(
            kept, None if intent is None else str(intent), _mapping(asked.get(ENTITIES)) or {}
        )


@dataclass(frozen=True)
class ActionDraft:
    """An action being gathered over turns (``skills.actions``).

    ``awaiting``: the parameter asked for (``free_text``: any words answer it; ``choices``:
    the replies offered); ``token``: the confirmation proposed for it; ``reoffer``: a
    cancelled or expired proposal the user may ask for again.
    """

    name: str
    params: dict[str, Any] = field(default_factory=dict)
    awaiting: str | None = None
    free_text: bool = False
    choices: tuple[str, ...] | None = None
    token: str | None = None
    reoffer: bool = False

    def to_json(self) -> dict[str, Any]:
        stored: dict[str, Any] = {
            "name": self.name,
            "params": self.params,
            "awaiting": self.awaiting,
        }
        if self.awaiting is not None:
            stored["free_text"] = self.free_text
            stored["choices"] = list(self.choices) if self.choices is not None else None
        if self.token is not None:
            stored["token"] = self.token
        if self.reoffer:
            stored["reoffer"] = True
        return stored

    @classmethod
    def from_json(cls, value: Any) -> ActionDraft | None:
        """The draft stored as ``value``; None for anything that is not one."""
        if not isinstance(value, Mapping):
            return None
        offered = value.get("choices")
        return cls(
            name=str(value.get("name")),
            params=_mapping(value.get("params")) or {},
            awaiting=_text(value.get(AWAITING)),
            free_text=bool(value.get("free_text")),
            choices=tuple(str(c) for c in offered) if isinstance(offered, list | tuple) else None,
            token=_text(value.get("token")),
            reoffer=bool(value.get("reoffer")),
        )

    def offered(self) -> set[str]:
        """The replies offered for the open question, compared without case or edge spaces."""
        return {c.strip().lower() for c in self.choices or ()}


@dataclass(frozen=True)
class ConversationState:
    """What a conversation remembers between turns (see the module docstring)."""

    intent: str | None = None
    entities: dict[str, Any] | None = None
    awaiting: str | None = None
    offer: Offer | None = None
    action: ActionDraft | None = None
    analytics: dict[str, Any] | None = None
    import_id: int | None = None
    # Keys this version doesn't know, kept as stored.
    other: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, value: Any) -> ConversationState:
        """The state stored as ``value`` (None, or anything not a mapping: nothing remembered)."""
        if not isinstance(value, Mapping):
            return cls()
        intent, import_id = value.get(INTENT), value.get(IMPORT_ID)
        return cls(
            intent=None if intent is None else str(intent),
            entities=_mapping(value.get(ENTITIES)),
            awaiting=_text(value.get(AWAITING)),
            offer=Offer.from_json(value.get(OFFER)),
            action=ActionDraft.from_json(value.get(ACTION)),
            analytics=_mapping(value.get(ANALYTICS)),
            import_id=_integer(import_id),
            other={k: v for k, v in value.items() if k not in _KNOWN},
        )

    def to_json(self) -> dict[str, Any]:
        """The JSON stored for this state (only what it remembers)."""
        stored: dict[str, Any] = {}
        if self.intent is not None:
            stored[INTENT] = self.intent
        if self.entities is not None:
            stored[ENTITIES] = self.entities
        if self.awaiting is not None:
            stored[AWAITING] = self.awaiting
        if self.offer is not None:
            stored[OFFER] = self.offer.to_json()
        if self.action is not None:
            stored[ACTION] = self.action.to_json()
        if self.analytics is not None:
            stored[ANALYTICS] = self.analytics
        if self.import_id is not None:
            stored[IMPORT_ID] = self.import_id
        return {**stored, **self.other}

    @property
    def question(self) -> dict[str, Any]:
        """The last question's entities (empty when none is remembered)."""
        return dict(self.entities or {})

    def after(self, remembered: Mapping[str, Any] | None) -> ConversationState:
        """The state after an answer that remembers ``remembered`` (None: nothing new).

        An answer that remembers something replaces the state, but an action being drafted
        survives questions in between (only an answer naming ``action``, the actions skill's,
        changes or ends it). An answer that remembers nothing keeps the last question, yet
        withdraws an offer: an offer answers the very next message only.
        """
        if remembered is None:
            return dataclasses.replace(self, offer=None)
        new = ConversationState.from_json(remembered)
        if ACTION not in remembered:
            new = dataclasses.replace(new, action=self.action)
        return new


def _integer(value: Any) -> int | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def remember_action(draft: ActionDraft | None) -> dict[str, Any]:
    """What an actions-skill answer remembers: the draft, or None to end it."""
    return {ACTION: draft.to_json() if draft is not None else None}


@dataclass(frozen=True)
class AnswerMeta:
    """What an answer says beyond its text (``Answer.extra``).

    ``llm``: a model's use for the turn (``Usage.llm`` in the response); ``action_type`` and
    ``action_result``: an action's outcome (recorded on the reply message);
    ``documents_or_data``: how the documents and the data were weighed.
    """

    llm: dict[str, Any] | None = None
    action_type: str | None = None
    action_result: dict[str, Any] | None = None
    documents_or_data: str | None = None
    other: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, extra: Mapping[str, Any] | None) -> AnswerMeta:
        """The meta an answer's ``extra`` holds."""
        extra = extra or {}
        known = ("llm", "action_type", "action_result", "documents_or_data")
        return cls(
            llm=_mapping(extra.get("llm")),
            action_type=_text(extra.get("action_type")),
            action_result=_mapping(extra.get("action_result")),
            documents_or_data=_text(extra.get("documents_or_data")),
            other={k: v for k, v in extra.items() if k not in known},
        )

    def to_extra(self) -> dict[str, Any]:
        """The ``extra`` dict of an answer with this meta."""
        extra: dict[str, Any] = {}
        if self.llm is not None:
            extra["llm"] = self.llm
        if self.action_type is not None:
            extra["action_type"] = self.action_type
        if self.action_result is not None:
            extra["action_result"] = self.action_result
        if self.documents_or_data is not None:
            extra["documents_or_data"] = self.documents_or_data
        return {**extra, **self.other}

    @property
    def chose_tool(self) -> str | None:
        """The use case under which a model chose the turn's tool, if one did."""
        return _text((self.llm or {}).get("use_case"))
