"""The knowledge skill: policy and how-to questions answered from documents, with sources."""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

from companion.assistant.grounding import (
    USE_CASE,
    GroundedAnswer,
    fallback_answer,
    knowledge_answer,
    stream_knowledge_answer,
)
from companion.assistant.nlu import guard
from companion.assistant.progress import Progress, report
from companion.assistant.skills import refusals
from companion.assistant.skills.base import Answer, Turn, register
from companion.assistant.skills.data_query import denied_answer, generation_usage
from companion.errors import PermissionDenied
from companion.knowledge.answers import (
    NOT_FOUND,
    KnowledgeAnswer,
    extractive_answer,
    quoted_share,
    terms,
)
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


# "when are salaries paid?": what is asked about (salaries) as the subject of the verb asked
# (paid); "who is responsible for stock counts?": the duty asked about (stock counts).
_PASSIVE = re.compile(
    r"^\W*(?:when|how|where|how\s+often|by\s+when)\s+(?:is|are|was|were)\s+"
    r"(?:(?:the|our|my|their|a|an)\s+)?(?P<np>[a-z]+(?:\s+[a-z]+)?)\s+"
    r"(?P<verb>[a-z]+ed|paid|done|made|given|sent|kept|held|taken|set|run|sold|bought)\b",
    re.IGNORECASE,
)
_DUTY = re.compile(
    r"^\W*who\s+(?:is|are)\s+(?:responsible|in\s+charge)\s+(?:for|of)\s+"
    r"(?:(?:the|our|my|a|an)\s+)?(?P<np>[a-z]+(?:\s+[a-z]+){0,2})\s*\??\s*$",
    re.IGNORECASE,
)
_IRREGULAR = {
    "paid": "pay",
    "done": "do",
    "made": "mak",
    "given": "giv",
    "sent": "send",
    "kept": "keep",
    "held": "hold",
    "taken": "tak",
    "sold": "sell",
    "bought": "buy",
}
_PASSIVE_AUX = frozenset("is are was were be been being get gets got".split())
_WORD = re.compile(r"[a-z]+")
_FILLER = frozenset("the a an of our my their its".split())


def _root(word: str) -> str:
    """A crude stem for matching a question's word in a passage: salaries/salary, counts/count."""
    word = word.lower()
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        return word[:-1]
    return word


def _same(word: str, root: str) -> bool:
    return _root(word) == root or (len(root) >= 5 and word.startswith(root[:5]))


def _verb_root(verb: str) -> str:
    verb = verb.lower()
    if verb in _IRREGULAR:
        return _IRREGULAR[verb]
    stem = verb[:-2] if verb.endswith("ed") else verb
    return stem[:-1] if stem.endswith("e") else stem  # approved/approve -> approv


def _states_subject(question: str, sentence: str) -> bool:
    """Whether ``sentence`` says something of what ``question`` asks about, as asked.

    True for questions of neither shape. "unused annual leave ... is paid at the basic salary
    rate" names salaries, but what it says is paid is leave, not salaries.
    """
    words = _WORD.findall(sentence.lower())
    duty = _DUTY.match(question)
    if duty is not None:
        wanted = [_root(w) for w in _WORD.findall(duty.group("np").lower()) if w not in _FILLER]
        return all(any(_same(w, r) for w in words) for r in wanted)
    asked = _PASSIVE.match(question)
    if asked is None:
        return True
    named = [_root(w) for w in _WORD.findall(asked.group("np").lower())]
    verb = _verb_root(asked.group("verb"))
    if not any(w.startswith(verb) or (verb == "pay" and w == "paid") for w in words):
        # Said with another verb ("supplier performance is scored every quarter" for
        # "how often is it reviewed"): the sentence must name all of what is asked about.
        return all(any(_same(w, r) for w in words) for r in named)
    for at, word in enumerate(words):
        if not word.startswith(verb) and not (verb == "pay" and word == "paid"):
            continue
        before = words[max(0, at - 5) : at]
        if any(_same(w, r) for w in before for r in named):
            return True  # "salaries are paid", "salary for the month is paid"
        passive = bool(before) and before[-1] in _PASSIVE_AUX
        after = [w for w in words[at + 1 : at + 5] if w not in _FILLER]
        if not passive and any(_same(w, r) for w in after[:2] for r in named):
            return True  # "we pay salaries", "payment of salaries"
    return False


# Charges a policy sets by name: asked for and in no quoted sentence, the passages lack it
# ("what is the late payment penalty?" over sentences on how customers pay).
_CHARGE = re.compile(
    r"\b(?:penalt(?:y|ies)|fines?|fees?|interest|surcharges?|late\s+charges?)\b", re.IGNORECASE
)


_MONEY = re.compile(r"(?:bdt|usd|sgd|tk|\$|৳)\s?\d|\d\s?%|\bper\s+cent\b", re.IGNORECASE)


def _names_charge(question: str, quotes: list[str]) -> bool:
    asked = {_root(w) for w in _CHARGE.findall(question.lower())}
    said = " ".join(quotes).lower()
    if not asked or _MONEY.search(said):
        return True  # "a bounced cheque costs the customer BDT 1,000": a charge, by amount
    return any(re.search(rf"\b{re.escape(a)}", said) for a in asked)


def checked_answer(question: str, result: RetrievalResult) -> KnowledgeAnswer:
    """The extractive answer, or "not found" with the nearest passage offered when the quoted
    sentences name what is asked about without saying it ("when are salaries paid?" over a
    sentence on leave paid at the salary rate)."""
    found = extractive_answer(question, result)
    quotes = [q.text for q in found.quotes]
    if not found.found or (
        any(_states_subject(question, q) for q in quotes) and _names_charge(question, quotes)
    ):
        return found
    nearest = found.sources[0] if found.sources else None
    offer = ""
    if nearest is not None:
        where = ", ".join(str(p) for p in (nearest.get("title"), nearest.get("section")) if p)
        offer = f" The nearest passage I have is {where}, which is about something else."
    return KnowledgeAnswer(
        text=f"{NOT_FOUND} They don't say {_asked(question)}.{offer}",
        found=False,
        sources=found.sources[:1],
    )


def _asked(question: str) -> str:
    """The question as a clause: "when are salaries paid?" -> "when salaries are paid"."""
    asked = _PASSIVE.match(question)
    if asked is not None:
        words = [w.lower() for w in question[: asked.start("np")].split() if w not in _FILLER]
        wh, aux = " ".join(words[:-1]), words[-1]
        return f"{wh} {asked.group('np')} {aux} {asked.group('verb')}"
    duty = _DUTY.match(question)
    if duty is not None:
        return f"who is responsible for {duty.group('np')}"
    return f"what you asked (“{question.strip()}”)"


def answer_over(turn: Turn, result: RetrievalResult) -> KnowledgeAnswer:
    """The answer over the retrieved passages: generated and checked when policy allows it.

    Without a model, with ``knowledge_answer`` off, or when retrieval found nothing, it is the
    extractive answer. Streamed turns pass the model's text on as it is written, and a client
    that goes away stops the model.
    """
    checked = checked_answer(turn.text, result)
    llm = turn.language_model()
    company = turn.ctx.company_slug
    if llm is None or not llm.enabled(USE_CASE, company) or not checked.found:
        return checked  # no model is asked to phrase what the documents don't say
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
    # Weighed on what the documents mention; the answer itself says when they don't say it.
    return extractive_answer(turn.text, result), result


def documents_answer(turn: Turn, result: RetrievalResult) -> Answer:
    """The knowledge skill's answer over ``result`` (generated where policy allows it)."""
    return _answer(answer_over(turn, result), result)


def answer_from_documents(turn: Turn) -> Answer | None:
    """The documents' answer to a question another skill took, when they hold one.

    Used for product how-to questions under ``help`` ("how do I post an invoice?") and for
    questions the NLU found out of scope ("how much can I spend on a hotel?"). None for a
    bare "help" (the caller shows its examples), for callers without kb.read, when
    retrieval is not confident, for a request to contact someone ("send an email to
    ..."), and for a question about the outside world the quotes don't fully name.
    """
    if not (terms(turn.text) - _HELP_WORDS) or not turn.ctx.can("kb.read"):
        return None
    if guard.reaches_someone(turn.text):
        return None  # the documents may mention e-mail reminders; quoting them sends none
    result = retrieve(turn)
    if result is None:
        return None
    found = extractive_answer(turn.text, result)
    if not found.found:
        return None  # checked first: no model is asked when the documents hold no answer
    if refusals.classify(turn.text).topic is not None and quoted_share(turn.text, found) < 1:
        # "what's the weather in Dhaka today?" over the Dhaka hotel limits: a question about
        # the outside world (weather, markets, news) is answered by the documents only when
        # they say all of what it names.
        return None
    return _answer(answer_over(turn, result), result)
