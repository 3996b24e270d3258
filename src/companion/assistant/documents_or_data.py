"""Documents or data: whether a message the NLU read as a ledger question is about the documents.

With a company's own manuals loaded, "how long must we keep receipts for benefit claims?" or
"who approves overtime payments?" read as data questions (receipts, payments, approvals),
yet only the documents answer them. Both sides are weighed:

- the ledger side: does the message name something of the ledger — a document number, a
  customer, supplier, product, warehouse or bank account, a period, an amount? Its other
  words are ledger words when the NLU's own examples of data questions use them, unless
  it asks what a rule says ("how long must invoices be kept?", "who approves ...");
- the documents side: the message's words that are *not* ledger words ("benefit",
  "overtime", "telecommuting"), and how many of them the quoted passages hold.

Documents win when they hold the message's own subject and the message names nothing of the
ledger; a message that names both gets both answers, each labelled; otherwise the ledger.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from importlib import resources
from typing import Any, Literal

import yaml

from companion.assistant.skills.base import Answer
from companion.knowledge.answers import KnowledgeAnswer, terms

# Entities that name something of the ledger.
LEDGER_ENTITIES = frozenset(
    {
        "document_ref",
        "customer",
        "supplier",
        "product",
        "warehouse",
        "bank_account",
        "period",
        "date",
        "amount",
        "amount_range",
        "age",
    }
)
# Words of a question's form, which say nothing about either side.
_FORM = frozenset(
    terms(
        """show list give tell want need like know see find look let me us we our my per each
        every long often must keep happen happens go goes come mean means kind type way one
        will next previous last this current future upcoming ago far so"""
    )
)
# A question about a rule, not a figure: "how long must invoices be kept?", "who approves
# purchase orders?". Its ledger words are part of its subject: the documents must hold them.
_RULE = re.compile(
    r"\bhow long (?:must|should|do|does|are|is)\b.*\b(?:kept|keep|retain|retained|stored)\b"
    r"|\bwho (?:approves|authori[sz]es|signs|decides|may approve|can approve)\b"
    r"|\b(?:allowed|permitted|entitled|eligible|policy|rule|rules|procedure|retention)\b",
    re.IGNORECASE,
)
# In a question about a rule, "kept" is what the documents must say.
_RULE_FORM = _FORM - terms("keep")
# How much of the message's own subject the quoted passages must hold.
DOCUMENTS_FIT = 0.6
Verdict = Literal["documents", "both", "data"]


@dataclass(frozen=True)
class Weighing:
    """The two sides of one message and what they decide."""

    verdict: Verdict
    subject: frozenset[str]  # the message's words that are not ledger words
    fit: float  # the share of them the quoted passages (and their headings) hold
    ledger_named: bool


@functools.cache
def ledger_words(intents: frozenset[str]) -> frozenset[str]:
    """Content words of the NLU's training examples for ``intents`` (the data questions)."""
    text = resources.files("companion").joinpath("assistant/nlu/data/nlu.yml").read_text("utf-8")
    words: set[str] = set()
    for block in yaml.safe_load(text).get("nlu", []):
        if block.get("intent") not in intents:
            continue
        # "[City Bank](bank_account)": the entity's text is part of the example.
        examples = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", str(block.get("examples", "")))
        words |= terms(examples)
    return frozenset(words)


def _known(value: Any) -> bool:
    # A name the company's records don't hold ("I don't know a customer called ...") names
    # nothing of the ledger.
    return bool(value) and not (isinstance(value, dict) and value.get("unknown"))


def names_ledger(entities: dict[str, Any]) -> bool:
    """Whether the message's entities name a record, a party, a period or an amount."""
    return any(_known(entities.get(key)) for key in LEDGER_ENTITIES)


def asks_rule(text: str) -> bool:
    """Whether the message asks what a rule says (how long kept, who approves, allowed)."""
    return bool(_RULE.search(text))


def own_words(*names: str) -> frozenset[str]:
    """The words of the company's own names (slug, legal name): the ledger's subject."""
    return frozenset(terms(" ".join(names)))


def subject_of(
    text: str,
    ledger: frozenset[str],
    entities: dict[str, Any] | None = None,
    own: frozenset[str] = frozenset(),
) -> frozenset[str]:
    """The message's words that are neither ledger words nor words of a question's form.

    The words of a record's name ("Khulna Distributors") are the ledger's too, and so are
    those of the company's own name (``own``: "profit and loss for Acme Trading Ltd").
    """
    words = terms(text) - _RULE_FORM if asks_rule(text) else terms(text) - ledger - _FORM
    words -= own
    for key in LEDGER_ENTITIES:
        value = (entities or {}).get(key)
        if _known(value) and isinstance(value, dict) and isinstance(value.get("text"), str):
            words -= terms(value["text"])
    return frozenset(words)


def weigh(
    text: str,
    entities: dict[str, Any],
    found: KnowledgeAnswer,
    ledger: frozenset[str],
    own: frozenset[str] = frozenset(),
) -> Weighing:
    """Which side answers ``text``: the documents' ``found`` answer, the ledger, or both."""
    named = names_ledger(entities)
    subject = subject_of(text, ledger, entities, own)
    if not found.found or not subject:
        return Weighing("data", subject, 0.0, named)
    quoted = set().union(*(terms(q.text) for q in found.quotes))
    for source in found.sources:
        quoted |= terms(f"{source['title']} {source['section'] or ''}")
    fit = len(subject & quoted) / len(subject)
    if fit < DOCUMENTS_FIT and not (asks_rule(text) and not named):
        # "what is the reorder policy for fast-moving items?": a rule asked, which no
        # figure answers; the documents' answer says how much of it they hold.
        return Weighing("data", subject, fit, named)
    if named and len(subject) < 2:
        # One word beside a named period or record ("sales next quarter") is too little
        # to bother the ledger's answer with passages.
        return Weighing("data", subject, fit, named)
    return Weighing("both" if named else "documents", subject, fit, named)


def both(data: Answer, documents: Answer) -> Answer:
    """One answer from the ledger and the documents, each saying where it comes from."""
    return Answer(
        text=f"From the ledger: {data.text}\n\n{documents.text}",
        skill=data.skill,
        data=data.data,
        sources=documents.sources,
        choices=data.choices,
        remember=data.remember,
        extra={**documents.extra, **data.extra, "documents_or_data": "both"},
        pending=data.pending,
    )
