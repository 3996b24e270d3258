"""How alerts write amounts and days: the company's currency and number locale, compact.

``BDT 9.8 lakh`` and ``BDT 1.2 crore`` where the company writes Indian-style numbers,
``USD 16,220`` elsewhere; days as ``Tue 14 Oct``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from companion.kit.money import format_money, group_digits
from companion.tenancy.context import RequestContext

_INDIAN_LOCALES = ("en_IN", "bn_BD", "bn")
_LAKH = Decimal(100_000)
_CRORE = Decimal(10_000_000)


def amount(value: Decimal, ctx: RequestContext) -> str:
    """A rounded amount in the company's currency, as its people say it."""
    size = abs(value)
    if ctx.locale in _INDIAN_LOCALES and size >= _LAKH:
        unit, word = (_CRORE, "crore") if size >= _CRORE else (_LAKH, "lakh")
        return f"{ctx.currency} {group_digits(value / unit, ctx.locale, 1)} {word}"
    if size >= 1000:
        return f"{ctx.currency} {group_digits(value, ctx.locale, 0)}"
    return format_money(value, ctx.currency, ctx.locale)


def day(value: dt.date) -> str:
    """``Tue 14 Oct`` (the year too when it is not the current one is not needed here)."""
    return f"{value:%a} {value.day} {value:%b}"


def weekday(value: dt.date) -> str:
    """``Tuesday``."""
    return f"{value:%A}"


def ratio(value: float) -> str:
    """``3.1×``."""
    return f"{value:.1f}×"
