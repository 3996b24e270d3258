"""Extractive answers: the most relevant sentences of the retrieved chunks, quoted and cited.

A pure function of (question, RetrievalResult): no model, no database. The LLM work will
reuse the same retrieval result and may phrase the answer instead; the sources stay.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from companion.knowledge.chunking import split_sentences
from companion.knowledge.retrieval import Hit, RetrievalResult, prefer_company
from companion.knowledge.safety import quotable, quoted_data

NOT_FOUND = "I couldn't find this in your documents."
# Common words that carry no subject. Words like "over", "before" or "not" stay: in a
# policy they often are the point ("over the limit", "before departure").
_STOP = frozenset(
    """a about again all am an and any are as at be because been being both but by can
    could did do does doing down each for from further had has have having he her here hers
    him his how i if in into is it its itself just me my nor now of off on once or other our
    ours out own same she should so some such than that the their theirs them then there
    these they this those through to too until up very was we were what when where which
    while who whom why will with would you your yours company policy please tell know say
    says get got much many""".split()
)


@dataclass(frozen=True)
class Quote:
    """One quoted sentence and the number of the source it comes from."""

    text: str
    source: int
    score: float


@dataclass(frozen=True)
class KnowledgeAnswer:
    """The answer text, its numbered sources (chat ``sources``) and whether it found one."""

    text: str
    found: bool
    sources: list[dict[str, Any]] = field(default_factory=list)
    quotes: list[Quote] = field(default_factory=list)


def terms(text: str) -> set[str]:
    """Content words of ``text``, lower-cased and lightly stemmed; numbers kept."""
    words = set()
    for word in re.findall(r"[a-z0-9]+(?:[.,][0-9]+)*", text.lower()):
        if word in _STOP or (len(word) < 2 and not word.isdigit()):
            continue
        words.add(_stem(word))
    return words


_SUFFIXES = (
    ("ations", ""),
    ("ation", ""),
    ("ments", ""),
    ("ment", ""),
    ("ings", ""),
    ("ing", ""),
    ("ies", "y"),
    ("ied", "y"),
    ("ers", ""),
    ("er", ""),
    ("ed", ""),
    ("es", ""),
    ("al", ""),
    ("s", ""),
)


def _stem(word: str) -> str:
    """A crude stem, enough to match approve/approves/approved/approver/approval."""
    if word[0].isdigit():
        return word
    for suffix, keep in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3 and not word.endswith("ss"):
            word = word[: -len(suffix)] + keep
            break
    return word[:-1] if len(word) > 3 and word.endswith("e") else word


def body_of(hit: Hit) -> str:
    """The chunk's text without its leading "title > section" line."""
    text = hit.chunk.text
    first, _, rest = text.partition("\n")
    return rest if rest and first.startswith(hit.chunk.title) else text


def extractive_answer(
    question: str, result: RetrievalResult, *, max_quotes: int = 3, max_chunks: int = 3
) -> KnowledgeAnswer:
    """Quote the sentences that best answer ``question``, or say the documents don't."""
    if not result.confident or not result.hits:
        return KnowledgeAnswer(text=NOT_FOUND, found=False)
    wanted = terms(question)
    hits: list[Hit] = []
    candidates: list[tuple[int, int, str, set[str], set[str]]] = []
    for hit in prefer_company(result.hits):
        if len(hits) == max_chunks:
            break
        heading = terms(hit.chunk.section or "") | terms(hit.chunk.title)
        # A neutralised instruction is never quoted as an answer; a passage left with
        # nothing else gives way to the next best one.
        usable = [
            (position, sentence, words)
            for position, sentence in enumerate(split_sentences(quoted_data(body_of(hit))))
            if (words := terms(sentence)) and quotable(sentence)
        ]
        if not usable:
            continue
        for position, sentence, words in usable:
            candidates.append((len(hits), position, sentence, words, heading))
        hits.append(hit)
    if not candidates:
        return KnowledgeAnswer(text=NOT_FOUND, found=False)
    # How much of the question the passages mention is already part of retrieval's calibrated
    # `confident`. A second, stricter cut here ("half the words") refused 17 of 99 answerable
    # demo questions phrased in other words ("fly business class" for "air travel"), so only
    # passages sharing no word at all with the question are refused here.
    found_words = set().union(*(c[3] | c[4] for c in candidates))
    if wanted and not wanted & found_words:
        return KnowledgeAnswer(text=NOT_FOUND, found=False)
    # Rare words say more: weight each question word by its rarity among the candidates.
    weight = {
        t: math.log(1 + len(candidates) / (1 + sum(1 for c in candidates if t in c[3])))
        for t in wanted
    }
    scored: list[tuple[float, int, int, str]] = []  # (score, chunk rank, position, sentence)
    for rank, position, sentence, words, heading in candidates:
        overlap = sum(weight[t] for t in words & wanted)
        overlap += 0.5 * sum(weight[t] for t in (heading - words) & wanted)
        # Short sentences that match win over long ones that match as much.
        score = overlap / math.sqrt(len(words) + 1) + 0.1 / (rank + 1)
        if overlap and re.search(r"\d", sentence):
            score += 0.05  # a figure is usually what a policy question is after
        scored.append((score if overlap else 0.0, rank, position, sentence))
    scored.sort(key=lambda s: (-s[0], s[1], s[2]))
    if scored[0][0] == 0.0:  # nothing shares a word with the question: quote the best chunk
        scored = [(0.0, 0, 0, next(c[2] for c in candidates if c[0] == 0))]
    chosen: list[tuple[float, int, int, str]] = []
    per_chunk: dict[int, int] = {}
    for item in scored:
        if len(chosen) == max_quotes or (chosen and item[0] < chosen[0][0] * 0.6):
            break
        if per_chunk.get(item[1], 0) >= 2:
            continue
        chosen.append(item)
        per_chunk[item[1]] = per_chunk.get(item[1], 0) + 1
    # Read in document order within a chunk, best chunk first.
    chosen.sort(key=lambda s: (s[1], s[2]))
    numbers: dict[int, int] = {}
    quotes = []
    for score, rank, _, sentence in chosen:
        number = numbers.setdefault(rank, len(numbers) + 1)
        quotes.append(Quote(text=sentence, source=number, score=round(score, 4)))
    sources = [
        source_of(hits[rank], number, [q.text for q in quotes if q.source == number])
        for rank, number in numbers.items()
    ]
    lines = [f"“{q.text}” [{q.source}]" for q in quotes]
    cited = "; ".join(f"[{s['number']}] {_label(s)}" for s in sources)
    text = "From your documents:\n" + "\n".join(lines) + f"\nSources: {cited}"
    return KnowledgeAnswer(text=text, found=True, sources=sources, quotes=quotes)


def source_of(hit: Hit, number: int, quoted: list[str] | None = None) -> dict[str, Any]:
    """A numbered source of an answer: the passage's reference and what was quoted of it."""
    snippet = " ".join(quoted or []) or body_of(hit)
    return {
        "id": hit.chunk.chunk_id,
        "number": number,
        "title": hit.chunk.title,
        "section": hit.chunk.section,
        "url": hit.chunk.source_url,
        "snippet": snippet[:300],
    }


def _label(source: dict[str, Any]) -> str:
    return f"{source['title']}, {source['section']}" if source["section"] else str(source["title"])
