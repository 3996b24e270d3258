"""Names the user said that match none of the caller's records.

A question naming a customer the company doesn't have must not be answered for every
customer, as if the name had not been said. So after ``match_master`` has taken the names it
knows, this finds the spans that still *look like* a name of a customer, supplier, product or
warehouse: a capitalised phrase after a cue word ("customer Zebra Foods"), after a
preposition ("sales to Zebra Foods", "stock at Rangpur Hub"), or any phrase ending in a
legal form ("to zebra foods ltd"). Generic words ("top customers", "which customers owe us",
"customer list") are not names and are never reported. Each mention comes with the closest
records of the same company (never another's: the caller passes only its own master data).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from rapidfuzz import fuzz, process

from companion.assistant.nlu.entities.master import MasterData, MasterRecord

# A close match offered back ("did you mean ...?") scores at least this (WRatio, 0-100).
SUGGEST_SCORE = 70.0
MAX_SUGGESTIONS = 3
MAX_NAME_WORDS = 5

# Singular cue words: "customer Zebra Foods". Plurals ("customers") name no one.
_CUES = {
    "customer": ("customer",),
    "client": ("customer",),
    "supplier": ("supplier",),
    "vendor": ("supplier",),
    "product": ("product",),
    "item": ("product",),
    "sku": ("product",),
    "warehouse": ("warehouse",),
    "depot": ("warehouse",),
}
# Words that follow a warehouse's name ("the Rangpur warehouse", "Comilla depot", "our
# Khulna godown"): the capitalised phrase before one is a warehouse's name.
AFTER_CUES = {"warehouse": ("warehouse",), "depot": ("warehouse",), "godown": ("warehouse",)}
# Skipped between a preposition and the name it introduces ("stock in the Rangpur depot").
_ARTICLES = {"the", "our"}
# Lower-case words between "the"/"our" and "warehouse" that say which one without naming it:
# "the other warehouse" (a reply to an action's question), "our usual depot" (a memory),
# "the largest warehouse" (a ranking). Any other such word is the warehouse's name as the
# user knows it ("the main warehouse"): a company without one must not answer for all.
_NOT_WAREHOUSE_NAME = {
    "other", "another", "same", "whole", "entire", "each", "every", "which", "usual",
    "default", "preferred", "own", "first", "second", "third", "next", "previous", "most",
    "least", "top", "one", "only", "right", "wrong", "selected", "chosen", "current",
}  # fmt: skip
# Words before a capitalised name, and what kind of name each one may introduce.
_PARTY_OR_PRODUCT = ("customer", "supplier", "product")
_PREPOSITIONS = {
    "to": ("customer", "supplier"),
    "from": ("supplier", "customer"),
    "for": _PARTY_OR_PRODUCT,
    "of": _PARTY_OR_PRODUCT,
    "by": _PARTY_OR_PRODUCT,
    "with": ("customer", "supplier"),
    "does": ("customer", "supplier"),
    "did": ("customer", "supplier"),
    "owe": ("supplier", "customer"),
    "in": ("warehouse",),
    "at": ("warehouse",),
    "many": ("product",),  # "how many Galaxy S24 do we have?"
}
# A phrase ending in one of these is a business name even when written in lower case.
_LEGAL = {
    "ltd", "limited", "inc", "corp", "corporation", "llc", "plc", "pvt", "co", "gmbh",
    "traders", "trading", "enterprise", "enterprises", "industries", "agency", "mart",
    "sons", "group", "partners", "distributors", "telecom", "electronics",
}  # fmt: skip
# Verbs whose capitalised subject is a party: "... Zebra Foods bought", "Zebra Foods owes".
_PARTY_VERBS = {
    "bought", "buys", "ordered", "orders", "paid", "pays", "owes", "purchased", "placed",
}  # fmt: skip
_ADVERBS = {"last", "first", "ever", "recently", "also", "still", "just", "already", "never"}
# Capitalised words that are not names: acronyms, calendar words, the assistant's own terms.
_NOT_NAME = {
    "i", "ar", "ap", "po", "pos", "so", "vat", "tax", "fy", "ytd", "mtd", "qtd", "q1", "q2",
    "q3", "q4", "bdt", "usd", "eur", "gbp", "inr", "all", "any", "each", "every", "our",
    "my", "the", "this", "that", "these", "those", "last", "next", "today", "yesterday",
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
    "january", "february", "march", "april", "may", "june", "july", "august", "september",
    "october", "november", "december", "jan", "feb", "mar", "apr", "jun", "jul", "aug",
    "sep", "sept", "oct", "nov", "dec", "what", "which", "who", "how", "when", "where",
    "why", "is", "are", "was", "were", "me", "us", "you", "it", "them", "please", "total",
    "sales", "stock", "cash", "customers", "suppliers", "products", "items", "warehouses",
    "invoices", "invoice", "orders", "order", "bills", "payments", "balance", "balances",
    "list", "summary", "report", "month", "week", "year", "quarter", "day", "date",
}  # fmt: skip
_TOKEN = re.compile(r"[^\W_]+(?:[-'&./][^\W_]+)*|&", re.UNICODE)


@dataclass(frozen=True)
class Mention:
    """A name-like span that matched no record, the kinds it may be, and close records."""

    text: str
    start: int
    end: int
    kinds: tuple[str, ...]
    suggestions: dict[str, tuple[tuple[MasterRecord, float], ...]]

    def to_dict(self, kind: str) -> dict[str, Any]:
        """The entity shape of an unknown name: no id, ``unknown`` set, close records."""
        return {
            "text": self.text,
            "id": None,
            "name": None,
            "score": 0.0,
            "unknown": True,
            "suggestions": [
                {"id": r.id, "name": r.name, "score": round(s, 1)}
                for r, s in self.suggestions.get(kind, ())
            ],
        }


def find_unknown_names(text: str, master: MasterData) -> list[Mention]:
    """Name-like spans of ``text`` (resolved names already blanked out) that name no record."""
    tokens = [(m.group(0), m.start(), m.end()) for m in _TOKEN.finditer(text)]
    found: list[Mention] = []
    i = 0
    while i < len(tokens):
        word = tokens[i][0].lower()
        kinds = _CUES.get(word) or _PREPOSITIONS.get(word)
        if kinds is None or not _adjacent(text, tokens, i):
            i += 1
            continue
        first = i + 1
        if tokens[first][0].lower() in _ARTICLES and _adjacent(text, tokens, first):
            first += 1  # "in the Rangpur depot": the name follows the article
        j = _name_end(text, tokens, first)
        if j == first:
            i += 1
            continue
        if j < len(tokens) and tokens[j][0].lower() in AFTER_CUES:
            kinds = AFTER_CUES[tokens[j][0].lower()]  # "in the Rangpur depot": a warehouse
        start, end = tokens[first][1], tokens[j - 1][2]
        name = text[start:end]
        found.append(
            Mention(
                text=name,
                start=start,
                end=end,
                kinds=kinds,
                suggestions={k: close_records(name, master, k) for k in kinds},
            )
        )
        i = j
    found += _named_before_cue(text, tokens, master, found)
    return found + _named_before_verb(text, tokens, master, found)


def _named_before_verb(
    text: str, tokens: list[tuple[str, int, int]], master: MasterData, found: list[Mention]
) -> list[Mention]:
    """Capitalised names that buy, order, pay or owe: "when was the last time Zebra Foods
    bought anything?" names a customer (or supplier) as much as "sales to Zebra Foods"."""
    more: list[Mention] = []
    for j, (word, _, _) in enumerate(tokens):
        if word.lower() not in _PARTY_VERBS:
            continue
        end = j
        while end > 0 and tokens[end - 1][0].lower() in _ADVERBS:
            end -= 1  # "Zebra Foods last bought"
        first = end
        while (
            first > 0
            and end - first < MAX_NAME_WORDS
            and is_name_word(tokens[first - 1][0])
            and text[tokens[first - 1][2] : tokens[first][1]] == " "
        ):
            first -= 1
        # One capitalised word opening the message is as likely "Everyone" as a name.
        if first == end or (first == 0 and end == 1):
            continue
        start, stop = tokens[first][1], tokens[end - 1][2]
        if any(m.start < stop and start < m.end for m in [*found, *more]):
            continue
        name = text[start:stop]
        kinds = ("customer", "supplier")
        more.append(
            Mention(name, start, stop, kinds, {k: close_records(name, master, k) for k in kinds})
        )
    return more


def _named_before_cue(
    text: str, tokens: list[tuple[str, int, int]], master: MasterData, found: list[Mention]
) -> list[Mention]:
    """Capitalised names just before "warehouse"/"depot" ("the Rangpur warehouse")."""
    more: list[Mention] = []
    for j, (word, _, _) in enumerate(tokens):
        kinds = AFTER_CUES.get(word.lower())
        if kinds is None or j == 0 or text[tokens[j - 1][2] : tokens[j][1]] != " ":
            continue
        first = j
        while (
            first > 0
            and j - first < MAX_NAME_WORDS
            and is_name_word(tokens[first - 1][0])
            and (first == j or text[tokens[first - 1][2] : tokens[first][1]] == " ")
        ):
            first -= 1
        if first == j and _described(text, tokens, j):
            first = j - 1  # "the main warehouse": a name in the user's words
        if first == j:
            continue
        start, end = tokens[first][1], tokens[j - 1][2]
        if any(m.start < end and start < m.end for m in found):
            continue  # already reported ("in the Rangpur depot")
        name = text[start:end]
        more.append(
            Mention(name, start, end, kinds, {k: close_records(name, master, k) for k in kinds})
        )
    return more


def _described(text: str, tokens: list[tuple[str, int, int]], j: int) -> bool:
    """Whether "warehouse" at ``j`` follows "the"/"our" and one lower-case word that may be
    its name ("the main warehouse"), not one saying which without naming it."""
    if j < 2 or tokens[j - 2][0].lower() not in _ARTICLES:
        return False
    word = tokens[j - 1][0]
    gaps = text[tokens[j - 2][2] : tokens[j - 1][1]], text[tokens[j - 1][2] : tokens[j][1]]
    return (
        gaps == (" ", " ")
        and word.isalpha()
        and word.islower()
        and word not in _NOT_NAME
        and word not in _NOT_WAREHOUSE_NAME
        and not word.endswith("est")  # "the biggest warehouse"
    )


def is_name_word(word: str) -> bool:
    """A capitalised word (or a number) that may be part of a name; not a calendar or
    question word, an acronym of the ledger or the assistant's own terms."""
    return word.lower() not in _NOT_NAME and (word[:1].isupper() or word[:1].isdigit())


def close_records(
    name: str, master: MasterData, kind: str
) -> tuple[tuple[MasterRecord, float], ...]:
    """The company's records of ``kind`` whose names are close to ``name``, best first.

    A company with no more warehouses than are offered gets all of them offered, closest
    first: "the Chittagong warehouse" is answered with the "Chattogram Port Depot" it has,
    not with "check the name" (a place's other spelling scores low).
    """
    records = master.records(kind)
    if not records:
        return ()
    best = process.extract(
        name.lower(),
        [r.name.lower() for r in records],
        scorer=fuzz.WRatio,
        limit=MAX_SUGGESTIONS,
        score_cutoff=None
        if kind == "warehouse" and len(records) <= MAX_SUGGESTIONS
        else SUGGEST_SCORE,
    )
    return tuple((records[index], float(score)) for _, score, index in best)


def _adjacent(text: str, tokens: list[tuple[str, int, int]], i: int) -> bool:
    # The name must follow the cue word directly: a blanked-out date or amount between them
    # ("sales in March to ...") leaves a gap of spaces, and "to" then introduces nothing.
    if i + 1 >= len(tokens):
        return False
    gap = text[tokens[i][2] : tokens[i + 1][1]]
    return gap in (" ", "  ") or gap.strip() in ('"', "'")


def _name_end(text: str, tokens: list[tuple[str, int, int]], first: int) -> int:
    """One past the last token of the name starting at ``first`` (``first``: no name)."""
    j = first
    while j < len(tokens) and j - first < MAX_NAME_WORDS:
        word = tokens[j][0]
        if j > first and text[tokens[j - 1][2] : tokens[j][1]] != " ":
            break  # punctuation or a blanked-out span ends the name
        if word != "&" and (
            word.lower() in _NOT_NAME or not (word[:1].isupper() or word[:1].isdigit())
        ):
            break
        j += 1
    while j > first and tokens[j - 1][0] == "&":
        j -= 1
    if j > first:
        return j
    # Lower case: a phrase counts only when it ends in a legal form ("zebra foods ltd").
    for end in range(first + 1, min(first + MAX_NAME_WORDS, len(tokens)) + 1):
        word = tokens[end - 1][0].lower()
        if word in _NOT_NAME or (
            end > first + 1 and text[tokens[end - 2][2] : tokens[end - 1][1]] != " "
        ):
            return first
        if end - first > 1 and word in _LEGAL:
            return end
    return first
