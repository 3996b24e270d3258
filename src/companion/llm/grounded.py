"""Generated knowledge answers from retrieved passages, with their citations checked.

The model sees the numbered passages and the question only. Its answer is kept when every
citation marker ``[n]`` names a passage it was given, it cites at least one, each figure it
states is in the passages it cites, and most of its content words come from those passages
(or the question). Otherwise the extractive answer (quoted sentences) is returned, with
the reason. Retrieval that is not confident is never sent to a model: the answer is the
extractive "not found".
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

from companion.knowledge.answers import KnowledgeAnswer, extractive_answer, terms
from companion.knowledge.retrieval import Hit, RetrievalResult, prefer_company
from companion.llm.errors import LLMError
from companion.llm.guard import mentions
from companion.llm.providers.base import Generation, Message
from companion.llm.service import LLMService

log = logging.getLogger(__name__)

USE_CASE = "knowledge_answer"
MAX_PASSAGES = 3
MAX_PASSAGE_CHARS = 1200
# The answer is asked for in one to three short sentences; a model rambling past this is
# stopped (streaming) and cut back to whole sentences, bounding the answer's latency.
MAX_ANSWER_CHARS = 500
# Share of the answer's content words that must occur in the cited passages or question.
MIN_SUPPORT = 0.6
_CITATION = re.compile(r"\[(\d+)\]")
_CITATION_LIST = re.compile(r"\[(\d+(?:\s*,\s*\d+)+)\]")

RULES = (
    "You answer questions using the numbered passages only. End every sentence with the "
    "number of the passage it comes from, in square brackets. Keep figures exactly as the "
    "passage states them. If the passages do not answer the question, say so. Answer in "
    "one to three short sentences. Example: 'Taxis need a receipt [2].'"
)


@dataclass(frozen=True)
class GroundedAnswer(KnowledgeAnswer):
    """A knowledge answer that says whether a model wrote it and, if not, why."""

    generated: bool = False
    fallback_reason: str | None = None  # policy_off | not_found | provider_failed | ...
    generation: Generation | None = None


@dataclass(frozen=True)
class CitationCheck:
    """The verdict on a generated answer's citations and support."""

    ok: bool
    reason: str | None
    cited: list[int]
    support: float


def passages_of(result: RetrievalResult, limit: int = MAX_PASSAGES) -> list[Hit]:
    """The hits given to the model, in the order they are numbered (1, 2, ...)."""
    return prefer_company(result.hits)[:limit]


def _body(hit: Hit) -> str:
    text = hit.chunk.text
    first, _, rest = text.partition("\n")
    return rest if rest and first.startswith(hit.chunk.title) else text


def _label(hit: Hit) -> str:
    chunk = hit.chunk
    return f"{chunk.title}, {chunk.section}" if chunk.section else chunk.title


def build_prompt(question: str, passages: Sequence[Hit]) -> list[Message]:
    """The system rules, the numbered passages and the question; nothing else."""
    numbered = "\n\n".join(
        f"[{n}] {_label(hit)}\n{_body(hit)[:MAX_PASSAGE_CHARS]}"
        for n, hit in enumerate(passages, start=1)
    )
    return [
        {"role": "system", "content": RULES},
        {"role": "user", "content": f"Passages:\n{numbered}\n\nQuestion: {question}"},
    ]


def trim_answer(text: str, limit: int = MAX_ANSWER_CHARS) -> str:
    """``text`` cut back to its whole sentences within ``limit`` characters (at least one)."""
    text = text.strip()
    if len(text) <= limit:
        return text
    head = text[:limit]
    # A sentence ends at ". " or after its citation: "... per night [1]."
    ends = [m.end() for m in re.finditer(r"[.!?](?:\s*\[\d+\])?(?=\s|$)", head)]
    return head[: ends[-1]].strip() if ends else head.strip()


def _cited(text: str) -> list[int]:
    # "[1, 2]" cites both; expand it before reading single markers.
    expanded = _CITATION_LIST.sub(
        lambda m: "".join(f"[{n.strip()}]" for n in m.group(1).split(",")), text
    )
    return list(dict.fromkeys(int(n) for n in _CITATION.findall(expanded)))


def check_citations(text: str, question: str, passages: Sequence[Hit]) -> CitationCheck:
    """Whether ``text`` cites only given passages, cites some, and they support what it says."""
    cited = _cited(text)
    if not cited:
        return CitationCheck(False, "no_citation", cited, 0.0)
    unknown = [n for n in cited if not 1 <= n <= len(passages)]
    if unknown:
        return CitationCheck(False, "unknown_citation", cited, 0.0)
    sources = " ".join(_label(passages[n - 1]) + "\n" + passages[n - 1].chunk.text for n in cited)
    claim = _CITATION.sub(" ", _CITATION_LIST.sub(" ", text))
    stated = mentions(claim).numbers
    given = mentions(sources + "\n" + question).numbers
    if any(value not in given for value in stated):
        return CitationCheck(False, "unsupported_figure", cited, 0.0)
    words = terms(claim)
    if not words:
        return CitationCheck(False, "low_support", cited, 0.0)
    support = len(words & (terms(sources) | terms(question))) / len(words)
    if support < MIN_SUPPORT:
        return CitationCheck(False, "low_support", cited, round(support, 3))
    return CitationCheck(True, None, cited, round(support, 3))


def _source(hit: Hit, number: int) -> dict[str, Any]:
    return {
        "id": hit.chunk.chunk_id,
        "number": number,
        "title": hit.chunk.title,
        "section": hit.chunk.section,
        "url": hit.chunk.source_url,
        "snippet": _body(hit)[:300],
    }


def _fallback(
    extractive: KnowledgeAnswer, reason: str, generation: Generation | None = None
) -> GroundedAnswer:
    return GroundedAnswer(
        text=extractive.text,
        found=extractive.found,
        sources=extractive.sources,
        quotes=extractive.quotes,
        generated=False,
        fallback_reason=reason,
        generation=generation,
    )


def _finish(
    question: str,
    passages: Sequence[Hit],
    extractive: KnowledgeAnswer,
    text: str,
    generation: Generation | None,
) -> GroundedAnswer:
    """The generated answer with its sources if its citations check out, else the fallback."""
    text = trim_answer(text)
    if not text:
        return _fallback(extractive, "empty", generation)
    check = check_citations(text, question, passages)
    if not check.ok:
        log.info(
            "llm.knowledge_fallback",
            extra={"reason": check.reason, "cited": check.cited, "support": check.support},
        )
        return _fallback(extractive, check.reason or "rejected", generation)
    sources = [_source(passages[n - 1], n) for n in sorted(check.cited)]
    cited = "; ".join(f"[{s['number']}] {_label(passages[s['number'] - 1])}" for s in sources)
    return GroundedAnswer(
        text=f"{text}\nSources: {cited}",
        found=True,
        sources=sources,
        quotes=[],
        generated=True,
        fallback_reason=None,
        generation=generation,
    )


def _prepare(
    llm: LLMService, company: str | int, question: str, result: RetrievalResult
) -> tuple[KnowledgeAnswer, list[Hit], GroundedAnswer | None]:
    """The extractive answer, the passages, and the final answer when no model is asked."""
    extractive = extractive_answer(question, result)
    if not extractive.found:
        # Retrieval (or the extractive check) found no answer: a model would only guess.
        return extractive, [], _fallback(extractive, "not_found")
    if not llm.enabled(USE_CASE, company):
        return extractive, [], _fallback(extractive, "policy_off")
    return extractive, passages_of(result), None


def _fingerprint(passages: Sequence[Hit]) -> str:
    return ",".join(hit.chunk.chunk_id for hit in passages)


def knowledge_answer(
    llm: LLMService, company: str | int, question: str, result: RetrievalResult
) -> GroundedAnswer:
    """A generated, citation-checked answer from ``result``, or the extractive one."""
    extractive, passages, decided = _prepare(llm, company, question, result)
    if decided is not None:
        return decided
    try:
        generation = llm.generate(
            USE_CASE,
            company,
            build_prompt(question, passages),
            data_fingerprint=_fingerprint(passages),
        )
    except LLMError as exc:
        log.info("llm.knowledge_failed", extra={"code": exc.code})
        return _fallback(extractive, "provider_failed")
    return _finish(question, passages, extractive, generation.text, generation)


async def stream_knowledge_answer(
    llm: LLMService, company: str | int, question: str, result: RetrievalResult
) -> AsyncIterator[str | GroundedAnswer]:
    """Text pieces while the model writes, then the checked final answer (always last).

    The final answer is authoritative: when the check fails it is the extractive answer,
    and a client shows it in place of the streamed text. No pieces precede a final answer
    that no model was asked for.
    """
    extractive, passages, decided = _prepare(llm, company, question, result)
    if decided is not None:
        yield decided
        return
    pieces: list[str] = []
    length = 0
    stream = llm.stream(
        USE_CASE, company, build_prompt(question, passages), data_fingerprint=_fingerprint(passages)
    )
    try:
        async for piece in stream:
            pieces.append(piece)
            yield piece
            length += len(piece)
            if length > MAX_ANSWER_CHARS:
                break  # closing the stream below stops the model
    except LLMError as exc:
        log.info("llm.knowledge_failed", extra={"code": exc.code, "streamed": len(pieces)})
        yield _fallback(extractive, "provider_failed")
        return
    finally:
        await stream.aclose()  # type: ignore[attr-defined]
    yield _finish(question, passages, extractive, "".join(pieces), None)
