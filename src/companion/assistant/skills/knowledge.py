"""The knowledge skill: policy and how-to questions answered from documents, with sources."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from companion.assistant.grounding import (
    USE_CASE,
    GroundedAnswer,
    fallback_answer,
    knowledge_answer,
    stream_knowledge_answer,
)
from companion.assistant.progress import Progress, report
from companion.assistant.skills.base import Answer, Turn, register
from companion.assistant.skills.data_query import denied_answer, generation_usage
from companion.errors import PermissionDenied
from companion.knowledge.answers import KnowledgeAnswer, extractive_answer, terms
from companion.knowledge.index import IndexUnavailable
from companion.knowledge.retrieval import RetrievalResult
from companion.llm.service import LLMService

log = logging.getLogger(__name__)

NAME = "knowledge"
UNAVAILABLE = "The knowledge base is not available right now; please try again later."
# Words of a bare request for help; anything beyond them is a real question.
_HELP_WORDS = frozenset({"help", "hi", "hello", "need", "assist", "assistance", "anything", "do"})


def retrieve(turn: Turn) -> RetrievalResult | None:
    """What the caller's company documents (and the global help) hold for the message."""
    if turn.retriever is None:
        return None
    report(turn.progress, "retrieving")
    try:
        return turn.retriever().retrieve(
            turn.text, company_id=turn.ctx.company_id, roles=turn.ctx.roles
        )
    except IndexUnavailable as exc:
        # The index is a derived, possibly remote store (Qdrant): without it a knowledge
        # question is told so, and every other question is answered as usual.
        log.warning("knowledge index unavailable: %s", exc.message)
        return None


def answer_over(turn: Turn, result: RetrievalResult) -> KnowledgeAnswer:
    """The answer over the retrieved passages: generated and checked when policy allows it.

    Without a model, with ``knowledge_answer`` off, or when retrieval found nothing, it is the
    extractive answer. Streamed turns pass the model's text on as it is written, and a client
    that goes away stops the model.
    """
    llm = turn.language_model()
    company = turn.ctx.company_slug
    if llm is None or not llm.enabled(USE_CASE, company):
        return extractive_answer(turn.text, result)
    report(turn.progress, "generating")
    if turn.progress is None:
        return knowledge_answer(llm, company, turn.text, result)
    # A streamed turn runs in a worker thread of its own, where no event loop is running.
    return asyncio.run(_streamed(llm, company, turn.text, result, turn.progress))


async def _streamed(
    llm: LLMService, company: str, question: str, result: RetrievalResult, progress: Progress
) -> GroundedAnswer:
    items = stream_knowledge_answer(llm, company, question, result)

    async def consume() -> GroundedAnswer:
        async for item in items:
            if isinstance(item, GroundedAnswer):
                return item
            progress.token(item)
        raise RuntimeError("the knowledge stream ended without its final answer")

    task = asyncio.ensure_future(consume())
    while not task.done():
        if progress.cancelled:
            # Cancelling closes the model's stream (stream_knowledge_answer's finally).
            task.cancel()
            break
        await asyncio.wait({task}, timeout=0.05)
    try:
        return await task
    except asyncio.CancelledError:
        return fallback_answer(extractive_answer(question, result), "cancelled")


def llm_usage(found: KnowledgeAnswer) -> dict[str, Any] | None:
    """What the model did for this answer, for the response's ``usage.llm``."""
    if not isinstance(found, GroundedAnswer):
        return None
    usage: dict[str, Any] = {
        "use_case": USE_CASE,
        "generated": found.generated,
        # True when the model wrote no markers and each sentence was matched to a passage.
        "attributed": found.attributed,
        "fallback_reason": found.fallback_reason,
    }
    return usage | generation_usage(found.generation)


def _answer(found: KnowledgeAnswer, result: RetrievalResult, **extra: Any) -> Answer:
    usage = llm_usage(found)
    if usage is not None:
        extra["llm"] = usage
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
        return _answer(answer_over(turn, result), result)


def documents_found(turn: Turn) -> tuple[KnowledgeAnswer, RetrievalResult] | None:
    """The extractive answer over the caller's documents and what retrieval found.

    None for callers without kb.read and when no knowledge base is wired in.
    """
    if not turn.ctx.can("kb.read"):
        return None
    result = retrieve(turn)
    if result is None:
        return None
    return extractive_answer(turn.text, result), result


def documents_answer(turn: Turn, result: RetrievalResult) -> Answer:
    """The knowledge skill's answer over ``result`` (generated where policy allows it)."""
    return _answer(answer_over(turn, result), result)


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
    if not extractive_answer(turn.text, result).found:
        return None  # checked first: no model is asked when the documents hold no answer
    return _answer(answer_over(turn, result), result)
