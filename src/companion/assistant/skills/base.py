"""The skill interface, the answer a skill returns, and the skill registry."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy.orm import Session

from companion.config import ActionSettings
from companion.kit.registry import Registry
from companion.tenancy.context import RequestContext

if TYPE_CHECKING:
    from companion.assistant.progress import Progress
    from companion.knowledge.retrieval import Retriever
    from companion.llm.service import LLMService


@dataclass
class Turn:
    """Everything a skill may use to answer one message."""

    session: Session
    ctx: RequestContext
    text: str
    intent: str
    confidence: float
    entities: dict[str, Any]
    today: dt.date
    state: dict[str, Any]
    module: str | None = None
    # For skills that write (actions): when, in which conversation, and the id the
    # assistant's reply will be recorded under (audit entries link to it).
    now: dt.datetime | None = None
    conversation_id: str | None = None
    message_id: str | None = None
    actions: ActionSettings | None = None
    # The knowledge retriever, built on first use (loading the embedder takes a moment).
    retriever: Callable[[], Retriever] | None = None
    # Language models by policy, built on first use; None: no model is ever asked.
    llm: Callable[[], LLMService] | None = None
    # Set when the turn is streamed: steps and model text go to the client as they happen.
    progress: Progress | None = None
    # An ad-hoc question's reading (``assistant.adhoc``): what the analytics skill answers.
    adhoc: Any = None
    # The embedder memories are compared with (loaded on first use); None: rules only.
    memory_embedder: Callable[[], Any] | None = None

    def language_model(self) -> LLMService | None:
        """The LLM service, or None when this assistant runs without one."""
        return self.llm() if self.llm is not None else None


@dataclass
class Answer:
    """What a skill says back; ``remember`` is kept for follow-ups in the conversation."""

    text: str
    skill: str
    data: dict[str, Any] | None = None
    sources: list[dict[str, Any]] | None = None
    choices: list[str] | None = None
    remember: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    pending: dict[str, Any] | None = None  # the confirmation this answer waits for
    # The answer's last step, which the turn runs once everything else it needs (its
    # context) is ready, just before recording itself: a confirmed action executes here, so
    # the rows it locks stay locked only while the turn writes. Returns the final answer.
    finish: Callable[[], Answer] | None = None


class Skill(Protocol):
    """Answers a turn. A skill whose answers may write says so with ``writes = True``: its
    turns are answered inside their write transaction (``assistant.phases``); any other
    skill only reads, and a write from it fails loudly (``kit.db.WriteWhileReading``)."""

    name: str

    def handle(self, turn: Turn) -> Answer: ...


# The package's modules register their skills on import (all but this one).
_SKILLS: Registry[Skill] = Registry(
    "companion.assistant.skills", skip={"base"}, duplicate="intent {name!r} already has a skill"
)


def register(*intents: str) -> Callable[[type[Any]], type[Any]]:
    """Class decorator: an instance of the class answers ``intents``."""

    def deco(cls: type[Any]) -> type[Any]:
        instance = cls()
        for intent in intents:
            _SKILLS.register(intent, instance)
        return cls

    return deco


def skill_for(intent: str) -> Skill | None:
    """The skill registered for ``intent``."""
    return _SKILLS.get(intent)
