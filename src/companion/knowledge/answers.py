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
from companion.knowledge.leads import direct_answer
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


# Past forms a suffix rule can't reach: "when are salaries paid?" over "Pay day".
_IRREGULAR = {
    "paid": "pay",
    "spent": "spend",
    "kept": "keep",
    "given": "give",
    "gave": "give",
    "taken": "take",
    "took": "take",
    "made": "make",
    "sold": "sell",
    "bought": "buy",
    "unused": "use",
}


def _stem(word: str) -> str:
    """A crude stem, enough to match approve/approves/approved/approver/approval."""
    if word[0].isdigit():
        return word
    if word in _IRREGULAR:
        return _IRREGULAR[word]
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
    if unmatched_modifier(question, found_words) or unnamed_figure(question, found_words):
        # "night-shift allowance" over passages about allowances, "the euro to taka rate" over
        # passages naming the taka and a salary rate: the thing asked about is not in them,
        # however close the rest is.
        return KnowledgeAnswer(text=NOT_FOUND, found=False)
    # Rare words say more: weight each question word by its rarity among the candidates.
    weight = {
        t: math.log(1 + len(candidates) / (1 + sum(1 for c in candidates if t in c[3])))
        for t in wanted
    }
    quantity = bool(_QUANTITY.search(question))
    scored: list[tuple[float, int, int, str]] = []  # (score, chunk rank, position, sentence)
    for rank, position, sentence, words, heading in candidates:
        overlap = sum(weight[t] for t in words & wanted)
        overlap += 0.5 * sum(weight[t] for t in (heading - words) & wanted)
        # Short sentences that match win over long ones that match as much.
        score = overlap / math.sqrt(len(words) + 1) + 0.1 / (rank + 1)
        if overlap and re.search(r"\d", sentence):
            score += 0.05  # a figure is usually what a policy question is after
        if overlap and quantity and _AMOUNT.search(sentence):
            score *= 1.5  # "how much ...?": the sentence with an amount answers it
        if _looks_like_heading(sentence):
            score *= 0.5  # "Monthly Counter Service Incentive (MCSI)" names, never answers
        scored.append((score if overlap else 0.0, rank, position, sentence))
    scored.sort(key=lambda s: (-s[0], s[1], s[2]))
    if scored[0][0] == 0.0:  # nothing shares a word with the question: quote the best chunk
        scored = [(0.0, 0, 0, next(c[2] for c in candidates if c[0] == 0))]
    chosen: list[tuple[float, int, int, str]] = []
    per_chunk: dict[int, int] = {}
    seen_text: set[str] = set()
    for item in scored:
        if len(chosen) == max_quotes or (chosen and item[0] < chosen[0][0] * 0.6):
            break
        if per_chunk.get(item[1], 0) >= 2 or item[3] in seen_text:
            continue  # overlapping chunks hold the same sentence: quote it once
        chosen.append(item)
        seen_text.add(item[3])
        per_chunk[item[1]] = per_chunk.get(item[1], 0) + 1
    # Read in document order within a chunk, best chunk first.
    chosen.sort(key=lambda s: (s[1], s[2]))
    sentences = {(c[0], c[1]): c[2] for c in candidates}
    numbers: dict[int, int] = {}
    quotes = []
    covered: set[tuple[int, int]] = set()
    for score, rank, position, _ in chosen:
        if (rank, position) in covered:
            continue  # already part of a neighbour's span
        span = [p for p in answer_span(sentences, rank, position) if (rank, p) not in covered]
        covered.update((rank, p) for p in span)
        number = numbers.setdefault(rank, len(numbers) + 1)
        quote = Quote(
            text=" ".join(sentences[(rank, p)] for p in span), source=number, score=round(score, 4)
        )
        quotes.append(quote)
    sources = [
        source_of(hits[rank], number, [q.text for q in quotes if q.source == number])
        for rank, number in numbers.items()
    ]
    lines = [f"“{q.text}” [{q.source}]" for q in quotes]
    cited = "; ".join(f"[{s['number']}] {_label(s)}" for s in sources)
    opening = "From your documents:"
    for quote in sorted(quotes, key=lambda q: -q.score):
        lead = direct_answer(question, quote.text)
        if lead:
            opening = f"{lead} [{quote.source}] — from your documents:"
            break
    text = opening + "\n" + "\n".join(lines) + f"\nSources: {cited}"
    return KnowledgeAnswer(text=text, found=True, sources=sources, quotes=quotes)


_QUANTITY = re.compile(
    r"\bhow (?:much|many|long)\b|\b(?:rate|amount|maximum|minimum|percentage|cap|limit|"
    r"allowance|reimbursement|quantum|fee|cost|price)\b",
    re.IGNORECASE,
)
_AMOUNT = re.compile(r"[$৳€£]\s?\d|\b(?:BDT|SGD|USD|Tk)\s?\d|\d\s?%|\d+\s?(?:cents?|per cent)")


def _looks_like_heading(sentence: str) -> bool:
    """A short line without a verb's punctuation whose words are capitalised: a title."""
    words = re.findall(r"[A-Za-z][\w’'-]*", sentence)
    if not words or len(words) > 8 or sentence.rstrip().endswith((".", ":", "?", "!")):
        return False
    small = {"of", "and", "the", "to", "for", "on", "in", "a", "an", "or", "with", "by", "at"}
    return all(w[0].isupper() for w in words if w.lower() not in small)


# A sentence opening with one of these points back to the sentence before it ("He later
# established his own company", "This applies to ..."): the answer may be in that one.
_POINTS_BACK = re.compile(
    r"^(?:\(?[0-9a-z]{1,3}(?:\.\d+)*[.)]?\s+)?"
    r"(?:it|this|these|that|those|such|he|she|they|his|her|their|its|the same|the latter)\b",
    re.IGNORECASE,
)
_MAX_SPAN_CHARS = 600
# A line of a list or a table: a marker ("(a)", "2.", "-"), or no full stop at its end.
_ITEM = re.compile(r"^\s*(?:\(?[0-9a-z]{1,3}[.)]\s|[-•*–]\s)|^(?!.*[.!?]\s*$)", re.IGNORECASE)


def answer_span(sentences: dict[tuple[int, int], str], rank: int, position: int) -> list[int]:
    """Positions to quote for the sentence at ``position``: with the one a pronoun points
    back to, and with the lines a sentence ending in ":" introduces (a list, a table)."""
    span = [position]
    if _POINTS_BACK.match(sentences[(rank, position)]) and (rank, position - 1) in sentences:
        span.insert(0, position - 1)
    if sentences[(rank, position)].rstrip().endswith(":"):
        length = sum(len(sentences[(rank, p)]) for p in span)
        following = position + 1
        while (rank, following) in sentences and len(span) < 8:
            line = sentences[(rank, following)]
            length += len(line)
            if length > _MAX_SPAN_CHARS or (following > position + 1 and not _ITEM.match(line)):
                break  # past the list: a sentence of its own
            span.append(following)
            if line.rstrip().endswith(":"):
                break  # the next list begins
            following += 1
    return span


# Words of a question that name no thing: a missing one says nothing about the documents.
_GENERIC = frozenset(
    _stem(w)
    for w in """staff employee employees worker workers people person someone anyone one
    allowed allow get gets give given take taken make use used long often maximum minimum
    limit limits rule rules happen happens need needs amount total much many number kind
    type way new current usual""".split()
)


# Nouns a policy narrows with a modifier ("car loan", "housing allowance"); other words in
# front of a known word are too often verbs or paraphrases ("reach the travel desk").
_SCHEMES = frozenset(
    _stem(w)
    for w in """allowance allowances loan loans scheme schemes insurance leave benefit benefits
    subsidy subsidies plan plans bonus bonuses fund grant grants incentive incentives award
    awards reimbursement compensation card membership programme program package packages
    voucher vouchers discount discounts pension option options policy""".split()
)


# Kinds of payment a policy grants by name: asked for and absent, the passages lack it.
# (Broader words - scheme, plan, programme - are often the asker's own paraphrase.)
_BENEFITS = frozenset(
    _stem(w) for w in "subsidy insurance pension bonus grant voucher discount".split()
)


def unmatched_modifier(question: str, found_words: set[str]) -> bool:
    """Whether the question narrows a word the passages hold with one they never mention.

    "night-shift allowance", "car loan", "pet insurance": the head noun is in the
    passages (allowance, loan, insurance) while its modifier is in none of them, so the
    passages are about something else than what was asked.
    """
    words = [
        _stem(w) for w in re.findall(r"[a-z]+", question.lower()) if w not in _STOP and len(w) > 2
    ]
    if any(w in _BENEFITS and w not in found_words for w in words):
        return True  # "is there a childcare centre subsidy?" over passages with no subsidy
    for modifier, head in zip(words, words[1:], strict=False):
        if head not in _SCHEMES or modifier in _GENERIC:
            continue
        if modifier not in found_words and head in found_words:
            return True
    return False


# Figures a question asks the value of ("the euro to taka rate", "the price of gold"); words
# of time say when, not what ("today's rate").
_FIGURES = frozenset({"rate", "rates", "price", "prices", "value", "worth"})
_WHEN = frozenset("today todays now current currently latest live present tomorrow".split())
_JOINING = frozenset({"to", "and", "vs", "versus"})
_NOW = frozenset({"today", "todays", "now", "tonight", "live"})
_NAMING_WORDS = 3  # a figure's name is short; further back or on are other words of the question


def unnamed_figure(question: str, found_words: set[str]) -> bool:
    """Whether the question asks for today's figure of something the passages never name.

    "what is the euro to taka rate today?", "what's the price of sugar now?": the words that
    say what the rate or price is of (in front of it, or after "of") must all be in the
    passages; one on the taka's use and another on a salary rate don't give the euro's rate.
    Only a figure asked as of now: a policy sets rates, it doesn't quote them live, while
    "the mileage rate" of a policy may well be written "BDT 18 per km" (a paraphrase).
    """
    words = re.findall(r"[a-z0-9]+", question.lower())
    if not _NOW & set(words):
        return False

    def naming(word: str) -> bool:
        return (
            len(word) > 1
            and not word.isdigit()
            and word not in _STOP
            and word not in _WHEN
            and word not in _FIGURES
        )

    for at, word in enumerate(words):
        if word not in _FIGURES:
            continue
        of_what: list[str] = []
        before = at - 1
        while before >= 0 and len(of_what) < _NAMING_WORDS:  # "euro to taka rate"
            if naming(words[before]):
                of_what.append(words[before])
            elif not (words[before] in _JOINING and of_what and before > 0):
                break
            before -= 1
        after = at + 1
        if after < len(words) and words[after] == "of":  # "price of (the) gold"
            after += 1
            while after < len(words) and words[after] in ("the", "a", "an", "one"):
                after += 1
            while after < len(words) and naming(words[after]) and len(of_what) < _NAMING_WORDS:
                of_what.append(words[after])
                after += 1
        named = {_stem(w) for w in of_what} - _GENERIC
        if any(w not in found_words for w in named):
            return True
    return False


def quoted_share(question: str, found: KnowledgeAnswer) -> float:
    """The share of the question's naming words (not stop, generic or time words) that the
    quoted sentences and their sources' headings hold; 1.0 when it names nothing."""
    named = {w for w in terms(question) if w not in _GENERIC and w not in _WHEN}
    if not named:
        return 1.0
    said = set().union(*(terms(q.text) for q in found.quotes))
    for source in found.sources:
        said |= terms(f"{source['title']} {source['section'] or ''}")
    return len(named & said) / len(named)


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
