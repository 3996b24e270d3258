"""Writing figures into answer sentences: money, numbers, quantities, dates and periods.

Money goes through ``kit.money.format_money`` with the company's currency and locale, so
an answer reads ``BDT 12,34,567.00`` for a company on Indian-style grouping and
``USD 1,234,567.00`` elsewhere. Dates are written ``23 Nov 2026`` whatever the locale:
unambiguous in every English-speaking market the product serves.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from companion.kit.money import format_money, group_digits, quantize
from companion.tenancy.context import RequestContext


def date_text(day: dt.date) -> str:
    """``23 Nov 2026``."""
    return f"{day.day} {calendar.month_abbr[day.month]} {day.year}"


def period_text(start: dt.date, end: dt.date) -> str:
    """A period as people say it: ``November 2026``, ``1–23 Nov 2026``, ``2026``."""
    if start == end:
        return date_text(start)
    last_day = calendar.monthrange(end.year, end.month)[1]
    if start.year == end.year:
        if (start.month, start.day, end.month, end.day) == (1, 1, 12, 31):
            return str(start.year)
        if start.month == end.month:
            if start.day == 1 and end.day == last_day:
                return f"{calendar.month_name[start.month]} {start.year}"
            return f"{start.day}–{end.day} {calendar.month_abbr[end.month]} {end.year}"
        return (
            f"{start.day} {calendar.month_abbr[start.month]} – "
            f"{end.day} {calendar.month_abbr[end.month]} {end.year}"
        )
    return f"{date_text(start)} – {date_text(end)}"


def join_words(words: Sequence[str]) -> str:
    """``A``, ``A and B``, ``A, B and C``."""
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} and {words[-1]}"


def percent_text(part: Decimal, whole: Decimal) -> str:
    """``part`` as a share of ``whole``, one decimal: ``42.5%`` (``0.0%`` of nothing)."""
    if whole == 0:
        return "0.0%"
    return f"{quantize(part * 100 / whole, 1)}%"


@dataclass(frozen=True)
class AnswerFormat:
    """The formatting conventions of one company: its currency and number locale."""

    currency: str
    locale: str = "en"

    @classmethod
    def of(cls, ctx: RequestContext) -> AnswerFormat:
        """The caller's company's conventions."""
        return cls(currency=ctx.currency, locale=ctx.locale)

    def money(self, amount: Decimal) -> str:
        """``BDT 12,34,567.00``."""
        return format_money(amount, self.currency, self.locale)

    def number(self, value: Decimal | int, places: int = 0) -> str:
        """A plain number with the locale's digit grouping."""
        return group_digits(value, self.locale, places)

    def quantity(self, value: Decimal, uom: str | None = None) -> str:
        """``1,250 units``, ``12.5 kg``: no trailing zeros, the unit after."""
        normal = value.normalize()
        places = max(0, -int(normal.as_tuple().exponent))
        text = group_digits(value, self.locale, places)
        if not uom:
            return text
        unit = uom if uom != "unit" else ("unit" if value == 1 else "units")
        return f"{text} {unit}"

    def count(self, n: int, singular: str, plural_form: str | None = None) -> str:
        """``1 invoice``, ``1,20,000 invoices`` with the locale's grouping."""
        word = singular if n == 1 else (plural_form or f"{singular}s")
        return f"{group_digits(n, self.locale)} {word}"
