"""The knowledge skill: policy and how-to questions answered from documents, with sources."""

from __future__ import annotations

from typing import Any

from companion.assistant.skills.base import Answer, Turn, register
from companion.assistant.skills.data_query import denied_answer
from companion.errors import PermissionDenied
from companion.knowledge.answers import KnowledgeAnswer, extractive_answer, terms
from companion.knowledge.retrieval import RetrievalResult

NAME = "knowledge"
UNAVAILABLE = "The knowledge base is not available right now; please try again later."
# Words of a bare request for help; anything beyond them is a real question.
_HELP_WORDS = frozenset({"help", "hi", "hello", "need", "assist", "assistance", "anything", "do"})


def retrieve(turn: Turn) -> RetrievalResult | None:
    """What the caller's company documents (and the global help) hold for the message."""
    if turn.retriever is None:
        return None
    return turn.retriever().retrieve(
        turn.text, company_id=turn.ctx.company_id, roles=turn.ctx.roles
    )


def _answer(found: KnowledgeAnswer, result: RetrievalResult, **extra: Any) -> Answer:
    return Answer(
        text=found.text,
        skill=NAME,
        sources=found.sources or None,
        extra={
            "retrieval": {
                "confident": result.confident,
                "top_dense": round(result.top_dense, 4),
                "hits": [h.chunk.chunk_id for h in result.hits],
                "neutralised": result.neutralised,
            },
            **extra,
        },
    )


@register("explain_policy")
class PolicySkill:
    name = NAME

    def handle(self, turn: Turn) -> Answer:
        try:
            turn.ctx.require("kb.read")
        except PermissionDenied as exc:
            return denied_answer(exc)
        result = retrieve(turn)
        if result is None:
            return Answer(text=UNAVAILABLE, skill=self.name)
        return _answer(extractive_answer(turn.text, result), result)


def answer_from_documents(turn: Turn) -> Answer | None:
    """The documents' answer to a question another skill took, when they hold one.

    Used for product how-to questions under ``help`` ("how do I post an invoice?") and for
    questions the NLU found out of scope ("how much can I spend on a hotel?"). None for a
    bare "help" (the caller shows its examples), for callers without kb.read, and when
    retrieval is not confident.
    """
    if not (terms(turn.text) - _HELP_WORDS) or not turn.ctx.can("kb.read"):
        return None
    result = retrieve(turn)
    if result is None:
        return None
    found = extractive_answer(turn.text, result)
    return _answer(found, result) if found.found else None
