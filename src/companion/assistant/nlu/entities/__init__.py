"""Entity extraction: pure functions over the text, the business date and the caller's master data.

``extract_entities`` runs every extractor in an order that keeps them out of each other's way
(a document number is not an amount, "last 30 days" is not a quantity): each one blanks out
what it used before the next one reads the text.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from companion.assistant.nlu.entities.ages import extract_age
from companion.assistant.nlu.entities.amounts import extract_amounts
from companion.assistant.nlu.entities.docrefs import extract_document_refs
from companion.assistant.nlu.entities.master import (
    MasterData,
    MasterMatch,
    NumberedMiss,
    match_master,
)
from companion.assistant.nlu.entities.mentions import (
    AFTER_CUES,
    MAX_SUGGESTIONS,
    Mention,
    find_unknown_names,
    is_name_word,
)
from companion.assistant.nlu.entities.numbers import mask, scaled_value
from companion.assistant.nlu.entities.periods import extract_dates
from companion.assistant.nlu.entities.quantities import extract_quantities
from companion.assistant.nlu.entities.script import ascii_digits
from companion.assistant.nlu.entities.words import (
    STATUSES,
    extract_module,
    extract_status,
    extract_top_n,
)
from companion.assistant.nlu.spans import Span

# Extractors read at most this much; a 10k-character paste is not a question about row 9,000.
MAX_CHARS = 1000
_QTY_BEFORE = re.compile(
    r"(?<![\w.,\-/])(\d+(?:\.\d+)?)\s*(?:x\s*)?(?:(?:more|extra|additional)\s+)?(?:of\s+)?$",
    re.IGNORECASE,
)


@dataclass
class Extraction:
    """Entities in CONTRACT.md's shapes, plus the spans that name things (for delexicalising)."""

    entities: dict[str, Any] = field(default_factory=dict)
    spans: list[Span] = field(default_factory=list)
    matches: list[MasterMatch] = field(default_factory=list)
    # Name-like spans that matched no record: reported, never dropped (an unknown customer
    # must not widen the answer to every customer).
    unknown: list[Mention] = field(default_factory=list)


def extract_entities(
    text: str,
    *,
    today: dt.date,
    fiscal_year_start_month: int = 1,
    master: MasterData | None = None,
    status_vocabulary: Mapping[str, str] = STATUSES,
) -> Extraction:
    """Every entity of ``text``; master data only from ``master`` (the caller's company)."""
    text = ascii_digits(text[:MAX_CHARS])
    out = Extraction()
    work = text

    # "overdue by more than 60 days": a bound on days, before "60 days" is read as a
    # period or "invoices 60+ days" as invoice number 60
    age = extract_age(work)
    if age is not None:
        out.entities["age"] = age.to_dict()
        out.spans.append(Span(age.start, age.end, "age"))
        work = mask(work, age.start, age.end)

    refs = extract_document_refs(work)
    if refs:
        out.entities["document_ref"] = refs[0].to_dict()
        if len(refs) > 1:
            out.entities["document_refs"] = [r.to_dict() for r in refs]
        for ref in refs:
            out.spans.append(Span(ref.start, ref.end, "document_ref"))
            work = mask(work, ref.start, ref.end)

    dates = extract_dates(work, today=today, fiscal_year_start_month=fiscal_year_start_month)
    if dates.period:
        out.entities["period"] = dates.period.to_dict()
    if dates.date:
        out.entities["date"] = dates.date.isoformat()
    for start, end in dates.spans:
        work = mask(work, start, end)

    top = extract_top_n(work)
    if top:
        out.entities["top_n"] = int(top.value)
        work = mask(work, top.start, top.end)

    qty = extract_quantities(work)
    if qty.quantity is not None:
        out.entities["quantity"] = qty.quantity
    if qty.unit_price is not None:
        out.entities["unit_price"] = qty.unit_price
    for start, end in qty.spans:
        work = mask(work, start, end)

    amounts = extract_amounts(work)
    if amounts.amount is not None:
        out.entities["amount"] = amounts.amount
    if amounts.range is not None:
        out.entities["amount_range"] = amounts.range.to_dict()
    currency = amounts.currency or qty.currency
    if currency:
        out.entities["currency"] = currency
    for start, end in amounts.spans:
        work = mask(work, start, end)

    status = extract_status(work, status_vocabulary)
    if status:
        out.entities["status"] = status.value
    module = extract_module(work)
    if module:
        out.entities["module"] = module.value

    if master is not None:
        misses: list[NumberedMiss] = []
        out.matches = _said_names(work, match_master(work, master, misses=misses))
        _add_master(out, work)
        _add_unknown(out, work, master, misses)
    return out


_WORD = re.compile(r"[^\W_]+(?:[-'&./][^\W_]+)*", re.UNICODE)


def _said_names(work: str, matches: list[MasterMatch]) -> list[MasterMatch]:
    """The matches that are what the user named, without the ambiguous ones that are the
    start of another name: "the Rangpur warehouse" or "Rangpur Hub" names no customer,
    though several customers' names begin with "Rangpur" (reported as unknown, or as the
    warehouse they are, by what follows). A name inside a longer one of another kind that
    matched at least as well is part of that name ("Chattogram" in the supplier "Chattogram
    Lotus Electronics Co." is not the warehouse Chattogram Port Depot)."""
    return [
        m
        for m in matches
        if not (m.ambiguous and _name_goes_on(work, m)) and not any(_inside(m, x) for x in matches)
    ]


def _inside(match: MasterMatch, other: MasterMatch) -> bool:
    return (
        other.kind != match.kind
        and other.start <= match.start
        and match.end <= other.end
        and other.end - other.start > match.end - match.start
        and other.score >= match.score
    )


def _name_goes_on(work: str, match: MasterMatch) -> bool:
    following = _WORD.match(work, match.end + 1) if work[match.end : match.end + 1] == " " else None
    if following is None:
        return False
    word = following.group(0)
    if word.lower() in AFTER_CUES:
        return match.kind != "warehouse"
    if not is_name_word(word):
        return False
    said = f"{match.text} {word}".lower()
    return not any(said in record.name.lower() for record, _ in match.candidates)


def _add_unknown(
    out: Extraction, work: str, master: MasterData, misses: list[NumberedMiss]
) -> None:
    for match in out.matches:
        work = mask(work, match.start, match.end)
    # "bearing a209" when the company has A205 and A208: unknown, however it is written.
    numbered = [
        Mention(m.text, m.start, m.end, (m.kind,), {m.kind: m.close[:MAX_SUGGESTIONS]})
        for m in misses
        if not any(m.start < x.end and x.start < m.end for x in out.matches)
    ]
    for mention in numbered:
        work = mask(work, mention.start, mention.end)
    out.unknown = numbered + find_unknown_names(work, master)
    for mention in out.unknown:
        for kind in mention.kinds:
            # A name the company does have, of the same kind, is what the question is about.
            out.entities.setdefault(kind, mention.to_dict(kind))


def _add_master(out: Extraction, work: str) -> None:
    for match in out.matches:
        if match.kind not in out.entities:
            out.entities[match.kind] = match.to_dict()
        # A name that is both a customer and a supplier stays as written.
        rivals = [m for m in out.matches if m is not match and _overlap(m, match)]
        if not any(r.score >= match.score for r in rivals):
            out.spans.append(Span(match.start, match.end, match.kind))
        if match.kind == "product" and "quantity" not in out.entities:
            before = _QTY_BEFORE.search(work[: match.start])
            if before:
                value = scaled_value(before.group(1), None)
                if value is not None:
                    out.entities["quantity"] = value


def _overlap(a: MasterMatch, b: MasterMatch) -> bool:
    return a.start < b.end and b.start < a.end
