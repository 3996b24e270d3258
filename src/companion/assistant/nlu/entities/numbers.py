"""Numbers as people type them: "1,00,000", "10k", "1.5m", "2 lakh", "1 crore", "twelve",
"50 hajar", "৫ লাখ" (Bangla digits are read by ``script.ascii_digits`` before these patterns)."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from companion.assistant.nlu.entities.script import END

WORD_NUMBERS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "fifteen": 15,
    "twenty": 20,
    "thirty": 30,
    "fifty": 50,
    "hundred": 100,
}

# Multiplier words; single letters only when glued to the digits ("10k", not "10 k").
MULTIPLIERS = {
    "k": Decimal(1_000),
    "thousand": Decimal(1_000),
    "m": Decimal(1_000_000),
    "mn": Decimal(1_000_000),
    "million": Decimal(1_000_000),
    "b": Decimal(1_000_000_000),
    "bn": Decimal(1_000_000_000),
    "billion": Decimal(1_000_000_000),
    "lakh": Decimal(100_000),
    "lakhs": Decimal(100_000),
    "lac": Decimal(100_000),
    "lacs": Decimal(100_000),
    "crore": Decimal(10_000_000),
    "crores": Decimal(10_000_000),
    "cr": Decimal(10_000_000),
    # Banglish and Bangla: hajar/হাজার (thousand), লাখ/লক্ষ (lakh), কোটি (crore).
    "hajar": Decimal(1_000),
    "hazar": Decimal(1_000),
    "হাজার": Decimal(1_000),
    "লাখ": Decimal(100_000),
    "লক্ষ": Decimal(100_000),
    "কোটি": Decimal(10_000_000),
}

# 1,234,567.89 (western) or 1,23,45,678 (South Asian grouping) or plain 1234.5
NUMBER = r"\d{1,3}(?:,\d{2,3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+"
_GLUED = r"k|m|mn|bn|b|cr"
_SPACED = r"thousand|million|billion|lakhs?|lacs?|crores?|mn|bn|cr|hajar|hazar|হাজার|লাখ|লক্ষ|কোটি"
SCALED_NUMBER = rf"(?P<num>{NUMBER})(?:(?P<glued>{_GLUED})\b|\s?(?P<spaced>{_SPACED}){END})?"
_SCALED = re.compile(SCALED_NUMBER, re.IGNORECASE)


def parse_number(text: str) -> Decimal | None:
    """A Decimal from digits with separators and an optional multiplier; None if not a number."""
    cleaned = text.strip().lower()
    if cleaned in WORD_NUMBERS:
        return Decimal(WORD_NUMBERS[cleaned])
    match = _SCALED.fullmatch(cleaned)
    if match is None:
        return None
    return scaled_value(match.group("num"), match.group("glued") or match.group("spaced"))


def scaled_value(digits: str, multiplier: str | None) -> Decimal | None:
    """``digits`` (commas allowed) times the multiplier word, exactly."""
    try:
        value = Decimal(digits.replace(",", ""))
    except InvalidOperation:
        return None
    if multiplier:
        value *= MULTIPLIERS[multiplier.lower()]
    return normalise_decimal(value)


def normalise_decimal(value: Decimal) -> Decimal:
    """Drop a fractional part of zeros (2.5 lakh -> 250000, not 250000.0)."""
    if value == value.to_integral_value():
        return value.quantize(Decimal(1))
    return value.normalize()


def mask(text: str, start: int, end: int) -> str:
    """``text`` with [start, end) blanked out, so later extractors skip it but offsets hold."""
    return text[:start] + " " * (end - start) + text[end:]
