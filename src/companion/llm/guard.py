"""The figure guard for model-phrased data answers, and ``phrase_answer`` that applies it.

A model may reword a data answer (policy ``chat``, off by default) but never change a
figure. The guard reads every number, date and currency in the generated text and accepts
the text only when each one is a figure of the query result or of the template sentence.

What counts as the same figure: equal values once digit grouping ("1,234,567.00" or the
Indian "12,34,567"), currency codes and symbols are set aside; "1.2 million" or "2 lakh"
are scaled and must then equal a figure exactly (a rounded figure is a changed figure).
Signs are ignored (a hyphen is as often a dash or a separator as a minus); percentages and
counts are numbers like any other; dates must be dates of the result or of the template.
"""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
import json
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from companion.llm.errors import LLMBusy, LLMError
from companion.llm.providers.base import Generation
from companion.llm.service import LLMService

log = logging.getLogger(__name__)

_SCALES = {
    "k": Decimal(1_000),
    "thousand": Decimal(1_000),
    "m": Decimal(1_000_000),
    "mn": Decimal(1_000_000),
    "million": Decimal(1_000_000),
    "millions": Decimal(1_000_000),
    "b": Decimal(1_000_000_000),
    "bn": Decimal(1_000_000_000),
    "billion": Decimal(1_000_000_000),
    "lakh": Decimal(100_000),
    "lakhs": Decimal(100_000),
    "lac": Decimal(100_000),
    "lacs": Decimal(100_000),
    "cr": Decimal(10_000_000),
    "crore": Decimal(10_000_000),
    "crores": Decimal(10_000_000),
}
_WORDS = {
    word: Decimal(value)
    for value, word in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen "
        "fourteen fifteen sixteen seventeen eighteen nineteen twenty".split()
    )
} | {
    word: Decimal(10 * tens)
    for tens, word in enumerate("thirty forty fifty sixty seventy eighty ninety".split(), 3)
}
_MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_abbr) if name} | {
    name.lower(): i for i, name in enumerate(calendar.month_name) if name
}
_MONTH = "|".join(sorted(_MONTHS, key=len, reverse=True))
# Currency codes and symbols a generated text could swap in for the company's own.
_CURRENCIES = {
    "USD": "USD",
    "EUR": "EUR",
    "GBP": "GBP",
    "BDT": "BDT",
    "INR": "INR",
    "JPY": "JPY",
    "CNY": "CNY",
    "AUD": "AUD",
    "CAD": "CAD",
    "$": "USD",
    "€": "EUR",
    "£": "GBP",
    "৳": "BDT",
    "₹": "INR",
    "¥": "JPY",
    "TK": "BDT",
    "TAKA": "BDT",
    "RS": "INR",
    "DOLLARS": "USD",
    "DOLLAR": "USD",
    "EUROS": "EUR",
    "RUPEES": "INR",
}

_ISO_DATE = re.compile(r"(?<!\d)(\d{4})-(\d{1,2})-(\d{1,2})(?!\d)")
_DAY_MONTH_YEAR = re.compile(
    rf"(?<!\d)(\d{{1,2}})(?:st|nd|rd|th)?\s+({_MONTH})\.?,?\s+(\d{{4}})\b", re.I
)
_MONTH_DAY_YEAR = re.compile(
    rf"\b({_MONTH})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})\b", re.I
)
# A number: grouped ("1,234,567", "12,34,567") or plain, an optional fraction, then an
# optional scale word, then an optional "%" (kept in the written form, same value).
_NUMBER = re.compile(
    r"(?<![\d.,])(\d{1,3}(?:,\d{2,3})+|\d+)(\.\d+)?"
    rf"(?:\s?({'|'.join(sorted(_SCALES, key=len, reverse=True))})\b)?"
    r"(?:\s?%|\s?per\s?cent\b)?",
    re.I,
)
_NUMBER_WORD = re.compile(rf"\b({'|'.join(_WORDS)})\b", re.I)
_CURRENCY = re.compile(
    r"(?<![A-Za-z])("
    + "|".join(re.escape(c) for c in sorted(_CURRENCIES, key=len, reverse=True))
    + r")(?![A-Za-z])",
    re.I,
)


@dataclass(frozen=True)
class Mentions:
    """The figures a text states: numbers (by value), dates and currencies."""

    numbers: dict[Decimal, str] = field(default_factory=dict)  # value -> as written
    dates: dict[dt.date, str] = field(default_factory=dict)
    currencies: dict[str, str] = field(default_factory=dict)  # ISO code -> as written


@dataclass(frozen=True)
class GuardVerdict:
    """Whether a generated text states only figures of the result, and those it doesn't."""

    ok: bool
    offending: list[str]
    checked: int


@dataclass(frozen=True)
class PhrasedAnswer:
    """The text to show, whether a model wrote it, and why not when it didn't."""

    text: str
    used_model: bool
    reason: str  # generated | policy_off | provider_failed | empty | guard_rejected
    offending: list[str] = field(default_factory=list)
    generation: Generation | None = None


def _date(year: str, month: int, day: str) -> dt.date | None:
    try:
        return dt.date(int(year), month, int(day))
    except ValueError:
        return None


def mentions(text: str) -> Mentions:
    """Every number, date and currency stated in ``text``."""
    numbers: dict[Decimal, str] = {}
    dates: dict[dt.date, str] = {}
    currencies: dict[str, str] = {}
    rest = text
    # Dates first, taken out of the text so their parts are not read as loose numbers.
    for pattern, order in ((_ISO_DATE, "ymd"), (_DAY_MONTH_YEAR, "dmy"), (_MONTH_DAY_YEAR, "mdy")):
        for match in pattern.finditer(rest):
            parts = dict(zip(order, match.groups(), strict=True))
            month = parts["m"]
            number = int(month) if month.isdigit() else _MONTHS[month.lower()]
            day = _date(parts["y"], number, parts["d"])
            if day is not None:
                dates.setdefault(day, match.group(0))
        rest = pattern.sub(" ", rest)
    for match in _NUMBER.finditer(rest):
        whole, fraction, scale = match.groups()
        try:
            value = Decimal(whole.replace(",", "") + (fraction or ""))
        except InvalidOperation:  # pragma: no cover - the pattern admits only digits
            continue
        if scale:
            value *= _SCALES[scale.lower()]
        numbers.setdefault(_norm(value), match.group(0))
    for match in _NUMBER_WORD.finditer(rest):
        numbers.setdefault(_WORDS[match.group(1).lower()], match.group(0))
    for match in _CURRENCY.finditer(rest):
        written = match.group(1)
        # Two- and three-letter words are codes only in capitals ("rs" or "cad" in prose
        # are rare; "Tk"/"Rs" are the usual spellings).
        if written.isalpha() and len(written) <= 3 and not written[0].isupper():
            continue
        currencies.setdefault(_CURRENCIES[written.upper()], written)
    return Mentions(numbers, dates, currencies)


def _norm(value: Decimal) -> Decimal:
    """A value compared by magnitude alone: 1234567.00 and 1234567 are one figure."""
    return abs(value).normalize() if value else Decimal(0)


def _as_decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))  # the shortest text that round-trips, as JSON shows it
    return None


def _cells(data: Any) -> tuple[list[Any], str | None]:
    """The values of a query result or its chat ``data`` dict, and its currency."""
    if data is None:
        return [], None
    if isinstance(data, Mapping):
        rows = data.get("rows") or []
        totals = data.get("totals") or {}
        columns = data.get("columns") or []
        currency = data.get("currency")
    else:  # a QueryResult
        rows, totals, columns = data.rows, data.totals, data.columns
        currency = getattr(data, "currency", None)
    values: list[Any] = [len(rows), *columns]
    for row in rows:
        values.extend(row.values() if isinstance(row, Mapping) else row)
    values.extend(totals.values() if isinstance(totals, Mapping) else totals)
    return values, str(currency) if currency else None


@dataclass(frozen=True)
class Figures:
    """What a generated text may state: the result's and the template's figures."""

    numbers: frozenset[Decimal]
    dates: frozenset[dt.date]
    currencies: frozenset[str]


def allowed_figures(template_text: str, data: Any) -> Figures:
    """The numbers, dates and currencies of ``data`` and of ``template_text``."""
    found = mentions(template_text)
    numbers = set(found.numbers)
    dates = set(found.dates)
    currencies = set(found.currencies)
    values, currency = _cells(data)
    if currency:
        currencies.add(currency.upper())
    for value in _flatten(values):
        number = _as_decimal(value)
        if number is not None:
            numbers.add(_norm(number))
        elif isinstance(value, dt.datetime):
            dates.add(value.date())
        elif isinstance(value, dt.date):
            dates.add(value)
        elif isinstance(value, str):
            try:
                numbers.add(_norm(Decimal(value)))  # a Decimal sent as text keeps its digits
                continue
            except InvalidOperation:
                pass
            inner = mentions(value)
            numbers.update(inner.numbers)
            dates.update(inner.dates)
            currencies.update(inner.currencies)
    # A date of the result may be written by its parts ("in 2026", "on the 23rd").
    for day in dates:
        numbers.update(Decimal(part) for part in (day.year, day.day))
    return Figures(frozenset(numbers), frozenset(dates), frozenset(currencies))


def _flatten(values: Iterable[Any]) -> Iterable[Any]:
    for value in values:
        if isinstance(value, Mapping):
            yield from _flatten(value.values())
        elif isinstance(value, list | tuple):
            yield from _flatten(value)
        else:
            yield value


def check_figures(text: str, template_text: str, data: Any) -> GuardVerdict:
    """Accept ``text`` only if each number, date and currency it states is one of the result's."""
    allowed = allowed_figures(template_text, data)
    stated = mentions(text)
    offending = [w for v, w in stated.numbers.items() if v not in allowed.numbers]
    offending += [w for d, w in stated.dates.items() if d not in allowed.dates]
    offending += [w for c, w in stated.currencies.items() if c not in allowed.currencies]
    checked = len(stated.numbers) + len(stated.dates) + len(stated.currencies)
    return GuardVerdict(ok=not offending, offending=offending, checked=checked)


PHRASING_RULES = (
    "You rewrite a business assistant's answer so it reads naturally. Keep every number, "
    "amount, currency, date and name exactly as written. Do not add, round, convert or "
    "compute any figure. Reply with the rewritten answer only, in one or two sentences."
)


def data_fingerprint(template_text: str, data: Any) -> str:
    """A short hash of the answer's data, scoping the cache to the figures it used."""
    body = json.dumps({"t": template_text, "d": data}, sort_keys=True, default=str)
    return hashlib.sha256(body.encode("utf-8")).hexdigest()[:32]


def phrase_answer(
    llm: LLMService, company: str | int, template_text: str, data: Any
) -> PhrasedAnswer:
    """The template reworded by the ``chat`` model if the figure guard accepts it, else as is."""
    if not llm.enabled("chat", company):
        return PhrasedAnswer(template_text, used_model=False, reason="policy_off")
    messages = [
        {"role": "system", "content": PHRASING_RULES},
        {"role": "user", "content": template_text},
    ]
    try:
        generation = llm.generate(
            "chat", company, messages, data_fingerprint=data_fingerprint(template_text, data)
        )
    except LLMBusy as exc:  # every model slot taken: the exact answer now, not a wait
        log.info("llm.phrasing_skipped", extra={"code": exc.code})
        return PhrasedAnswer(template_text, used_model=False, reason="model_busy")
    except LLMError as exc:
        log.info("llm.phrasing_failed", extra={"code": exc.code})
        return PhrasedAnswer(template_text, used_model=False, reason="provider_failed")
    text = generation.text.strip()
    if not text:
        return PhrasedAnswer(template_text, False, "empty", generation=generation)
    verdict = check_figures(text, template_text, data)
    if not verdict.ok:
        # Why the template was kept is worth a log line: it measures how often models lie.
        log.info(
            "llm.guard_rejected",
            extra={"offending": verdict.offending[:10], "model": generation.model},
        )
        return PhrasedAnswer(template_text, False, "guard_rejected", verdict.offending, generation)
    return PhrasedAnswer(text, used_model=True, reason="generated", generation=generation)
