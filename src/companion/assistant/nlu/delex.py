"""Delexicalisation: names and document numbers replaced by what they are.

"approve PO-2026-0042" and "how much does Rahim Traders owe" are classified as "approve
purchase order" and "how much does customer owe": the intent lives in the words around a
name, and a sentence model otherwise reads meaning into the name itself.
"""

from __future__ import annotations

from collections.abc import Iterable

from companion.assistant.nlu.entities.docrefs import extract_document_refs
from companion.assistant.nlu.rasa import Example
from companion.assistant.nlu.spans import Span

# Natural words, not tokens like <CUSTOMER>: the sentence model knows what they mean.
PLACEHOLDERS = {
    "customer": "customer",
    "supplier": "supplier",
    "product": "product",
    "warehouse": "warehouse",
    "bank_account": "bank account",
    # "stock levels older than 90 days" is classified as "stock levels": a bound on days
    # says how to narrow the answer, not which question it is (and no training example
    # carries one).
    "age": "",
}


def placeholder(entity: str, text: str) -> str | None:
    """The word that stands in for ``text``, or None if this entity is kept verbatim."""
    if entity == "document_ref":
        refs = extract_document_refs(text)
        return refs[0].words if refs else "number"
    return PLACEHOLDERS.get(entity)


def delexicalise(text: str, spans: Iterable[Span]) -> str:
    """``text`` with each replaceable span swapped for its placeholder (overlaps: first wins)."""
    out: list[str] = []
    cursor = 0
    for span in sorted(spans, key=lambda s: (s.start, -s.end)):
        if span.start < cursor:
            continue
        word = placeholder(span.entity, text[span.start : span.end])
        if word is None:
            continue
        out.append(text[cursor : span.start])
        out.append(word)
        cursor = span.end
    out.append(text[cursor:])
    return " ".join("".join(out).split())


def delexicalised_examples(examples: Iterable[Example]) -> list[Example]:
    """A placeholder copy of every example that names something replaceable."""
    copies = []
    for example in examples:
        spans = [Span(s.start, s.end, s.entity) for s in example.entities]
        if not any(placeholder(s.entity, example.text[s.start : s.end]) for s in spans):
            continue
        text = delexicalise(example.text, spans)
        if text and text != example.text:
            copies.append(Example(text=text, intent=example.intent))
    return copies
