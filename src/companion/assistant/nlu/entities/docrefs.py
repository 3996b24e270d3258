"""Document references: "PO-2026-0042", "inv-2026-107", "invoice 107", "po 42", "#204".

A reference without its year ("po 42") keeps the raw text and leaves ``value`` empty: only the
caller knows which year's PO 42 is meant (usually the current one; see ``resolve``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from companion.assistant.nlu.entities.quantities import UNITS
from companion.assistant.nlu.entities.script import END, ascii_digits

PREFIXES = ("PO", "SO", "INV", "BILL", "RCPT", "PAY", "JV", "SM")
_WORD_PREFIX = {
    "po": "PO",
    "purchase order": "PO",
    "so": "SO",
    "sales order": "SO",
    "inv": "INV",
    "invoice": "INV",
    "bill": "BILL",
    "rcpt": "RCPT",
    "receipt": "RCPT",
    "pay": "PAY",
    "payment": "PAY",
    "jv": "JV",
    "journal": "JV",
    "order": None,
}
# What a reference is, in words (for delexicalised classification).
DOCUMENT_WORDS = {
    "PO": "purchase order",
    "SO": "sales order",
    "INV": "invoice",
    "BILL": "bill",
    "PAY": "payment",
    "RCPT": "receipt",
    "JV": "journal",
    "SM": "stock movement",
}

_FULL = re.compile(
    rf"(?<![\w-])(?P<prefix>{'|'.join(PREFIXES)})[-\s/#]?(?P<year>(?:19|20)\d{{2}})[-\s/]"
    r"(?P<number>\d{1,6})(?![\w-])",
    re.IGNORECASE,
)
_WORDS = "|".join(sorted((re.escape(w) for w in _WORD_PREFIX), key=len, reverse=True))
_SHORT = re.compile(
    rf"\b(?P<word>{_WORDS})s?\s*(?:no\.?|number|num|#)?\s*#?\s*"
    r"(?:(?P<year>(?:19|20)\d{2})[-/])?(?P<number>\d{1,6})(?![\w-]|[.,]\d)",
    re.IGNORECASE,
)
_HASH = re.compile(r"(?<![\w&])#(?P<number>\d{1,6})\b")
# "order 50 more units", "order 12 bags": a count after the verb, not order number 50.
_COUNTED = re.compile(rf"\s*(?:more|extra|additional|x\b|(?:{UNITS}){END})", re.IGNORECASE)
# Words that are also verbs: "pay 5000" pays an amount; "pay no. 12" or "pay #12" is a document.
_VERBS = frozenset({"order", "pay", "payment", "bill", "invoice", "receipt"})
_MARKED = re.compile(r"(?:no\.?|number|num|#)", re.IGNORECASE)


@dataclass(frozen=True)
class DocumentRef:
    """A reference as written, with what could be read from it."""

    text: str
    prefix: str | None
    year: int | None
    number: int
    start: int
    end: int
    spelled: bool = False  # written as a word and a number ("invoice 107")

    @property
    def words(self) -> str:
        """What the reference is, in words: "purchase order", "invoice number", "number"."""
        kind = DOCUMENT_WORDS.get(self.prefix or "", "")
        if self.spelled:
            return f"{kind or 'order'} number"
        return kind or "number"

    @property
    def value(self) -> str | None:
        """``PO-2026-0042`` when prefix and year are known, else None."""
        if self.prefix is None or self.year is None:
            return None
        return format_ref(self.prefix, self.year, self.number)

    def resolve(self, year: int) -> str | None:
        """The full reference, assuming ``year`` where none was written."""
        if self.prefix is None:
            return None
        return format_ref(self.prefix, self.year or year, self.number)

    def to_dict(self) -> dict[str, Any]:
        """The public shape: raw text, normalised value (or null) and its parts."""
        return {
            "text": self.text,
            "value": self.value,
            "prefix": self.prefix,
            "year": self.year,
            "number": self.number,
        }


def format_ref(prefix: str, year: int, number: int) -> str:
    """``PO-2026-0042`` (the numbering service's format)."""
    return f"{prefix}-{year}-{number:04d}"


def extract_document_refs(text: str) -> list[DocumentRef]:
    """Every document reference in ``text``, in order, without overlaps."""
    text = ascii_digits(text)
    found: list[DocumentRef] = []

    def free(start: int, end: int) -> bool:
        return all(end <= r.start or start >= r.end for r in found)

    for match in _FULL.finditer(text):
        found.append(
            DocumentRef(
                text=match.group(0),
                prefix=match.group("prefix").upper(),
                year=int(match.group("year")),
                number=int(match.group("number")),
                start=match.start(),
                end=match.end(),
            )
        )
    for match in _SHORT.finditer(text):
        if not free(match.start(), match.end()):
            continue
        word = " ".join(match.group("word").lower().split())
        year = match.group("year")
        if word in _VERBS and not year and _counted(text, match, word):
            continue
        found.append(
            DocumentRef(
                text=match.group(0).strip(),
                prefix=_WORD_PREFIX.get(word),
                year=int(year) if year else None,
                number=int(match.group("number")),
                start=match.start(),
                end=match.end(),
                spelled=True,
            )
        )
    for match in _HASH.finditer(text):
        if free(match.start(), match.end()):
            found.append(
                DocumentRef(match.group(0), None, None, int(match.group("number")), *match.span())
            )
    return sorted(found, key=lambda r: r.start)


def _counted(text: str, match: re.Match[str], word: str) -> bool:
    """Whether a word-and-number is a count or an amount ("order 50 more", "pay 5000")."""
    if _COUNTED.match(text, match.end()):
        return True
    marked = bool(_MARKED.search(text, match.end("word"), match.start("number")))
    return word == "pay" and not marked
