"""Money in a message: an amount, its currency, or bounds ("over 50k", "between 1 and 2 lakh")."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from companion.assistant.nlu.entities.numbers import (
    NUMBER,
    scaled_value,
)
from companion.assistant.nlu.entities.script import END

SYMBOLS = {"৳": "BDT", "$": "USD", "€": "EUR", "£": "GBP", "₹": "INR", "¥": "JPY"}
CODES = ("BDT", "USD", "EUR", "GBP", "INR", "JPY")
CURRENCY_WORDS = {
    "tk": "BDT",
    "tk.": "BDT",
    "taka": "BDT",
    "dollar": "USD",
    "dollars": "USD",
    "euro": "EUR",
    "euros": "EUR",
    "pound": "GBP",
    "pounds": "GBP",
    "rupee": "INR",
    "rupees": "INR",
    "takar": "BDT",
    "টাকা": "BDT",
    "টাকার": "BDT",
}

_PRE = r"(?P<pre>[৳$€£₹¥]|(?:tk\.?|bdt|usd|eur|gbp|inr|jpy)\s?)"
_POST = (
    r"(?:\s?(?P<post>bdt|usd|eur|gbp|inr|jpy|takar?|tk|dollars?|euros?|pounds?|rupees?|টাকার?)"
    rf"{END})"
)
_MULT = (
    r"(?:(?P<glued>k|m|mn|bn|b|cr)\b|\s?(?P<spaced>thousand|million|billion|lakhs?|lacs?"
    rf"|crores?|mn|bn|cr|hajar|hazar|হাজার|লাখ|লক্ষ|কোটি){END})"
)
# Numbers followed by these are durations, counts or percentages, not money.
_NOT_MONEY = (
    r"(?!\s*(?:%|(?:days?|weeks?|months?|years?|yrs?|hours?|hrs?|minutes?|percent|units?|pcs"
    r"|pieces?|bags?|boxes|cans?|tons?|tonnes?|kgs?|reams?|pallets?|cartons?|items?|nos)\b))"
)
# Not part of a code or word ("WH-02", "A4"), and the whole number, never a prefix of it.
MONEY = rf"(?<![\w.\-/]){_PRE}?(?P<num>{NUMBER})(?!\d|[.,]\d){_MULT}?{_POST}?{_NOT_MONEY}"
_MONEY = re.compile(MONEY, re.IGNORECASE)

_MIN_WORDS = (
    r"over|above|more than|greater than|at least|exceeding|in excess of|upwards of|min(?:imum)?"
    r"|>=?"
)
_MAX_WORDS = r"below|under|less than|at most|up to|upto|not more than|max(?:imum)?|<=?"
_CONTEXT_WORDS = (
    r"worth|amount(?:ing to)?|valued at|total(?:l?ing)?(?: of)?|paid|pay|received|sent"
    r"|transferred|deposited|charge|payment of|receipt of|cheque for|check for|bill(?:ed)?"
    r"|invoice(?:d)?(?: for)?|limit(?: of)?|for"
)
_BETWEEN = re.compile(
    rf"\b(?:between|from)\s+(?P<a>{MONEY.replace('?P<', '?P<a_')})\s*(?:and|to|-|–)\s*"
    rf"(?P<b>{MONEY.replace('?P<', '?P<b_')})",
    re.IGNORECASE,
)
_BOUND = re.compile(
    rf"(?:(?P<min>\b(?:{_MIN_WORDS}))|(?P<max>\b(?:{_MAX_WORDS})))\s*"
    rf"(?P<m>{MONEY.replace('?P<', '?P<m_')})",
    re.IGNORECASE,
)
_CONTEXT = re.compile(rf"\b(?:{_CONTEXT_WORDS})\s*$", re.IGNORECASE)
# "pay the supplier 5000", "received from Rahim Traders 20,000": a paying verb a few words
# (no numbers among them) before the number.
_CONTEXT_FAR = re.compile(
    r"\b(?:pay|paid|payment\s+(?:of|to)|receive|received|send|sent|transfer(?:red)?"
    r"|deposit(?:ed)?)(?:\s+[^\W\d_][\w'&.-]*){1,4}\s*$",
    re.IGNORECASE,
)
_STANDALONE_CODE = re.compile(
    r"\b(?:in\s+)?(?P<code>bdt|usd|eur|gbp|inr|jpy)\b|\bin\s+(?P<word>taka|dollars|euros|pounds)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Money:
    """One money expression found in the text."""

    value: Decimal
    currency: str | None
    start: int
    end: int
    explicit: bool  # has a currency, a multiplier or thousands separators


@dataclass(frozen=True)
class AmountRange:
    """Inclusive bounds on an amount; either side may be open."""

    min: Decimal | None
    max: Decimal | None

    def to_dict(self) -> dict[str, Decimal | None]:
        """The public ``{min, max}`` shape."""
        return {"min": self.min, "max": self.max}


@dataclass(frozen=True)
class Amounts:
    """What the amount extractor found, with the character spans it used."""

    amount: Decimal | None = None
    currency: str | None = None
    range: AmountRange | None = None
    spans: tuple[tuple[int, int], ...] = ()


def find_money(text: str) -> list[Money]:
    """Every number in ``text`` that reads as money, in order."""
    return [m for m in (_money(match, "") for match in _MONEY.finditer(text)) if m is not None]


def extract_amounts(text: str) -> Amounts:
    """The amount, currency and amount bounds of a message."""
    spans: list[tuple[int, int]] = []
    bounds: AmountRange | None = None
    currencies: list[str] = []

    for match in _BETWEEN.finditer(text):
        low, high = _money(match, "a_"), _money(match, "b_")
        if low is None or high is None or not (low.explicit or high.explicit):
            continue
        low = _share_scale(low, high, match)
        bounds = AmountRange(min(low.value, high.value), max(low.value, high.value))
        currencies.extend(c for c in (low.currency, high.currency) if c)
        spans.append((match.start(), match.end()))
        break

    if bounds is None:
        lower: Decimal | None = None
        upper: Decimal | None = None
        for match in _BOUND.finditer(text):
            money = _money(match, "m_")
            if money is None:
                continue
            if match.group("min") and lower is None:
                lower = money.value
            elif match.group("max") and upper is None:
                upper = money.value
            else:
                continue
            if money.currency:
                currencies.append(money.currency)
            spans.append((match.start(), match.end()))
        if lower is not None or upper is not None:
            bounds = AmountRange(lower, upper)

    amount: Decimal | None = None
    for money in find_money(text):
        if any(s <= money.start < e for s, e in spans):
            continue
        before = text[: money.start]
        if not money.explicit and not (_CONTEXT.search(before) or _CONTEXT_FAR.search(before)):
            continue
        if amount is None:
            amount = money.value
            spans.append((money.start, money.end))
        if money.currency:
            currencies.append(money.currency)

    if not currencies:
        code = _STANDALONE_CODE.search(text)
        if code:
            word = code.group("code") or code.group("word")
            currencies.append(CURRENCY_WORDS.get(word.lower(), word.upper()))
    return Amounts(
        amount=amount,
        currency=currencies[0] if currencies else None,
        range=bounds,
        spans=tuple(sorted(spans)),
    )


def _money(match: re.Match[str], prefix: str) -> Money | None:
    digits = match.group(f"{prefix}num")
    glued, spaced = match.group(f"{prefix}glued"), match.group(f"{prefix}spaced")
    value = scaled_value(digits, glued or spaced)
    if value is None:
        return None
    currency = _currency(match.group(f"{prefix}pre"), match.group(f"{prefix}post"))
    explicit = bool(currency or glued or spaced or "," in digits)
    start = (
        match.start(f"{prefix}pre") if match.group(f"{prefix}pre") else match.start(f"{prefix}num")
    )
    return Money(value, currency, start, match.end(), explicit)


def _currency(pre: str | None, post: str | None) -> str | None:
    for raw in (pre, post):
        if not raw:
            continue
        token = raw.strip().lower()
        if token in SYMBOLS:
            return SYMBOLS[token]
        if token.upper() in CODES:
            return token.upper()
        if token in CURRENCY_WORDS:
            return CURRENCY_WORDS[token]
    return None


def _share_scale(low: Money, high: Money, match: re.Match[str]) -> Money:
    # "between 10 and 20k": the multiplier written once applies to both ends.
    scale = match.group("b_glued") or match.group("b_spaced")
    if low.explicit or not scale or match.group("a_glued") or match.group("a_spaced"):
        return low
    scaled = scaled_value(match.group("a_num"), scale)
    if scaled is None or scaled > high.value:
        return low
    return Money(scaled, low.currency or high.currency, low.start, low.end, True)
