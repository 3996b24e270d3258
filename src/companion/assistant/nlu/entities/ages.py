"""How long something has been so: "overdue by more than 60 days", "waiting over a week".

An age is a bound on a number of days, not a period of the calendar: "invoices overdue by
more than 60 days" asks for the invoices whose days overdue exceed 60, and "purchase orders
waiting more than a week" for those waiting eight days or longer. Read as nothing, such a
question would be answered for every overdue invoice or waiting order — a different question
— so the bound is an entity of its own (``age``: ``{min_days, max_days, text}``, inclusive
whole days) that the queries which can apply it apply, and the others say they can't.

Weeks are 7 days, months 30 and years 365 (the convention of aging buckets); "more than N"
excludes N ("more than 60 days": 61 or more), "at least N" and "N+" include it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_UNIT_DAYS = {"day": 1, "week": 7, "month": 30, "year": 365}
_WORD_NUMBERS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
    "fifteen": 15, "twenty": 20, "thirty": 30, "sixty": 60, "ninety": 90,
}  # fmt: skip
_NUMBER = r"(?P<n>\d{1,4}|" + "|".join(sorted(_WORD_NUMBERS, key=len, reverse=True)) + r")"
_UNIT = r"(?P<unit>day|week|month|year)s?"
# (words before the number, whether the bound is a minimum, whether it excludes the number)
_BEFORE = (
    (r"more than|longer than|older than|over|above|beyond|in excess of|exceeding", True, True),
    (r"at least|no less than|not less than|a minimum of|minimum of", True, False),
    (r"less than|fewer than|under|younger than|shorter than", False, True),
    (r"at most|no more than|not more than|up to|a maximum of|maximum of", False, False),
)
_PATTERNS = [
    (re.compile(rf"\b(?:{words})\s+{_NUMBER}\s+{_UNIT}\b", re.IGNORECASE), is_min, strict)
    for words, is_min, strict in _BEFORE
] + [
    # "60+ days", "60 days or more", "60 days and over", "90 days plus"
    (re.compile(rf"\b{_NUMBER}\s*\+\s*{_UNIT}\b", re.IGNORECASE), True, False),
    (
        re.compile(
            rf"\b{_NUMBER}\s+{_UNIT}\s+(?:or more|or longer|and (?:over|above|more|older)|plus)\b",
            re.IGNORECASE,
        ),
        True,
        False,
    ),
]


@dataclass(frozen=True)
class Age:
    """A bound on how many days old something is (inclusive), and where it was said."""

    min_days: int | None
    max_days: int | None
    text: str
    start: int
    end: int

    def to_dict(self) -> dict[str, Any]:
        return {"min_days": self.min_days, "max_days": self.max_days, "text": self.text}


def extract_age(text: str) -> Age | None:
    """The first day-count bound in ``text`` ("more than 60 days"), if it has one."""
    best: Age | None = None
    for pattern, is_min, strict in _PATTERNS:
        for match in pattern.finditer(text):
            days = _days(match)
            if days is None:
                continue
            if is_min:
                age = Age(days + 1 if strict else days, None, match.group(0), *match.span())
            else:
                age = Age(None, days - 1 if strict else days, match.group(0), *match.span())
            if best is None or age.start < best.start:
                best = age
            break
    return best


def _days(match: re.Match[str]) -> int | None:
    groups = match.groupdict()
    number = groups.get("n")
    unit = groups.get("unit")
    if number is None or unit is None:  # pragma: no cover - every pattern names both
        return None
    count = int(number) if number.isdigit() else _WORD_NUMBERS.get(number.lower())
    if count is None or count <= 0:
        return None
    return count * _UNIT_DAYS[unit.lower()]
