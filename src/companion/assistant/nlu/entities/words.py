"""Word-list entities: document statuses, top-N, and the ERP module a message names."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from companion.assistant.nlu.entities.numbers import WORD_NUMBERS

# Canonical statuses are the ERP's own values (plus the derived "overdue", "unpaid", "open").
STATUSES: dict[str, str] = {
    "draft": "draft",
    "drafts": "draft",
    "posted": "posted",
    "pending approval": "pending_approval",
    "awaiting approval": "pending_approval",
    "waiting for approval": "pending_approval",
    "to be approved": "pending_approval",
    "pending": "pending_approval",
    "approved": "approved",
    "rejected": "rejected",
    "declined": "rejected",
    "partially received": "partially_received",
    "part received": "partially_received",
    "received": "received",
    "closed": "closed",
    "cancelled": "cancelled",
    "canceled": "cancelled",
    "partially paid": "partially_paid",
    "part paid": "partially_paid",
    "part-paid": "partially_paid",
    "paid": "paid",
    "unpaid": "unpaid",
    "not paid": "unpaid",
    "outstanding": "unpaid",
    "unsettled": "unpaid",
    "overdue": "overdue",
    "past due": "overdue",
    "past-due": "overdue",
    "late": "overdue",
    "delinquent": "overdue",
    "void": "void",
    "voided": "void",
    "confirmed": "confirmed",
    "delivered": "delivered",
    "shipped": "delivered",
    "invoiced": "invoiced",
    "open": "open",
    "out of stock": "out_of_stock",
    "active": "active",
    "inactive": "inactive",
}
MODULES: dict[str, str] = {
    "finance": "finance",
    "accounts": "finance",
    "accounting": "finance",
    "sales": "sales",
    "purchasing": "purchasing",
    "procurement": "purchasing",
    "inventory": "inventory",
    "stock": "inventory",
    "warehouse": "inventory",
    "hr": "hr",
}

_TOP = re.compile(
    rf"\b(?:top|best|biggest|largest|highest|leading|first)\s+(?P<n>\d{{1,3}}|{'|'.join(WORD_NUMBERS)})\b"
    rf"|\b(?P<n2>\d{{1,3}}|{'|'.join(WORD_NUMBERS)})\s+(?:biggest|largest|best|top|highest)\b",
    re.IGNORECASE,
)
_MODULE = re.compile(
    rf"\b(?P<name>{'|'.join(MODULES)})\s+(?:module|team|department|dept|section)\b"
    rf"|\bmodule\s*[:=]?\s*(?P<name2>{'|'.join(MODULES)})\b",
    re.IGNORECASE,
)
# "open a sales order" is an action, not the status "open".
_NOT_STATUS = re.compile(r"^\s*(?:a|an|the|up|new|it)\b", re.IGNORECASE)


@dataclass(frozen=True)
class WordMatch:
    """A canonical value and where it was written."""

    value: str
    start: int
    end: int


def status_vocabulary(
    synonyms: Mapping[str, str] | None = None, lookup: list[str] | None = None
) -> dict[str, str]:
    """The built-in statuses plus a training set's status lookup table and synonyms."""
    vocab = dict(STATUSES)
    canon = set(STATUSES.values())
    for word in lookup or []:
        vocab.setdefault(word.lower(), word.lower())
        canon.add(word.lower())
    for phrase, value in (synonyms or {}).items():
        if value in canon:
            vocab.setdefault(phrase.lower(), value)
    return vocab


def extract_status(text: str, vocabulary: Mapping[str, str] = STATUSES) -> WordMatch | None:
    """The first status word or phrase (longest phrase wins at the same place)."""
    pattern = _phrase_pattern(tuple(sorted(vocabulary, key=len, reverse=True)))
    for match in pattern.finditer(text):
        phrase = " ".join(match.group(0).lower().split())
        if phrase == "open" and _NOT_STATUS.match(text[match.end() :]):
            continue
        return WordMatch(vocabulary[phrase], match.start(), match.end())
    return None


def extract_top_n(text: str) -> WordMatch | None:
    """N of "top 5", "best three", "10 biggest"."""
    match = _TOP.search(text)
    if match is None:
        return None
    raw = (match.group("n") or match.group("n2")).lower()
    value = int(raw) if raw.isdigit() else WORD_NUMBERS[raw]
    if value < 1:
        return None
    return WordMatch(str(value), match.start(), match.end())


def extract_module(text: str) -> WordMatch | None:
    """An ERP module named as such ("the sales team", "module: inventory")."""
    match = _MODULE.search(text)
    if match is None:
        return None
    name = (match.group("name") or match.group("name2")).lower()
    return WordMatch(MODULES[name], match.start(), match.end())


_PATTERNS: dict[tuple[str, ...], re.Pattern[str]] = {}


def _phrase_pattern(phrases: tuple[str, ...]) -> re.Pattern[str]:
    pattern = _PATTERNS.get(phrases)
    if pattern is None:
        alternatives = "|".join(re.escape(p).replace(r"\ ", r"\s+") for p in phrases)
        pattern = re.compile(rf"(?<![\w-])(?:{alternatives})(?![\w-])", re.IGNORECASE)
        _PATTERNS[phrases] = pattern
    return pattern
