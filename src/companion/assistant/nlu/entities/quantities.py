"""Quantities and unit prices: "120 units at 45 each", "500 reams @ 380", "by -5", "qty 10"."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from companion.assistant.nlu.entities.amounts import MONEY, SYMBOLS
from companion.assistant.nlu.entities.numbers import NUMBER, scaled_value
from companion.assistant.nlu.entities.script import END

UNITS = (
    r"units?|pcs|pc|pieces?|bags?|boxes|box|cans?|tons?|tonnes?|kgs?|kilos?|reams?|pallets?"
    r"|cartons?|litres?|liters?|nos|items?|sets?|rolls?|meters?|metres?|dozens?|bottles?|packs?"
    # Banglish and Bangla counters: "50 ta", "২০টা", "3 khana", "৫ বস্তা".
    r"|ta|ti|khana|pis|bosta|টা|টি|খানা|পিস|বস্তা"
)
# One word may stand between the number and its unit ("3 damaged pieces").
_QTY_UNIT = re.compile(
    rf"(?<![\w.\-/])(?P<sign>[+-])?(?P<num>{NUMBER})(?:\s+(?!per\b|a\b|an\b|each\b)[a-z]+)?\s*(?P<unit>{UNITS}){END}",
    re.IGNORECASE,
)
_QTY_WORD = re.compile(
    rf"\b(?:qty|quantity)(?:\s+of)?\s*[:=]?\s*(?P<sign>[+-])?(?P<num>{NUMBER})(?!\d)", re.IGNORECASE
)
_QTY_SIGNED = re.compile(
    rf"(?:\bby\s+|(?<![\w.\-/]))(?P<sign>[+-])(?P<num>{NUMBER})(?!\d|[.,]\d)", re.IGNORECASE
)
_QTY_BY = re.compile(
    rf"\bby\s+(?P<num>{NUMBER})(?!\d|[.,]\d|\s*(?:%|percent|days?))", re.IGNORECASE
)
_PRICE = re.compile(
    rf"(?:\bat\b|@|\bfor\b|\bprice(?:d)?(?:\s+at|\s+of)?)\s*(?P<m>{MONEY.replace('?P<', '?P<m_')})"
    r"\s*(?P<per>each|apiece|a piece|per\s+\w+|/\s*\w+|a\s+(?:unit|piece|ton|bag|kg|box))?",
    re.IGNORECASE,
)
_UNIT_WORDS = re.compile(rf"^\s*(?:{UNITS}){END}", re.IGNORECASE)


@dataclass(frozen=True)
class Quantities:
    """A quantity (signed for adjustments), its unit word, and a unit price."""

    quantity: Decimal | None = None
    unit: str | None = None
    unit_price: Decimal | None = None
    currency: str | None = None
    spans: tuple[tuple[int, int], ...] = ()


def extract_quantities(text: str) -> Quantities:
    """Quantity and unit price of an order or adjustment line."""
    spans: list[tuple[int, int]] = []
    quantity: Decimal | None = None
    unit: str | None = None
    for pattern in (_QTY_UNIT, _QTY_WORD, _QTY_SIGNED, _QTY_BY):
        match = pattern.search(text)
        if match is None:
            continue
        value = scaled_value(match.group("num"), None)
        if value is None:
            continue
        quantity = -value if match.groupdict().get("sign") == "-" else value
        unit = match.groupdict().get("unit")
        spans.append((match.start(), match.end()))
        break

    unit_price: Decimal | None = None
    currency: str | None = None
    for match in _PRICE.finditer(text):
        if any(s <= match.start("m") < e for s, e in spans):
            continue
        per = match.group("per")
        after = text[match.end() :]
        has_symbol = bool(match.group("m_pre"))
        # "at 45 each" / "@ 380" / "at ৳250": a price; "for 15,000" alone is a total.
        is_price = bool(per) or match.group(0).lstrip().startswith("@")
        is_price = is_price or (
            quantity is not None and not match.group(0).lower().startswith("for")
        )
        if not is_price or _UNIT_WORDS.match(after):
            continue
        value = scaled_value(
            match.group("m_num"), match.group("m_glued") or match.group("m_spaced")
        )
        if value is None:
            continue
        unit_price = value
        if has_symbol:
            raw = match.group("m_pre").strip().lower()
            currency = SYMBOLS.get(raw) or raw.upper()
        spans.append((match.start(), match.end()))
        break
    return Quantities(quantity, unit, unit_price, currency, tuple(sorted(spans)))
