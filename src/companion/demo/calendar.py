"""Dates of the demo: its span, business days per company, month ends, fiscal years."""

from __future__ import annotations

import calendar as _calendar
import datetime as dt
from collections.abc import Iterator


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` moved by ``months`` (negative goes back), clamped to the month's last day."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = _calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(day.day, last))


def demo_start(today: dt.date, months: int) -> dt.date:
    """The first day of history: ``months`` before ``today``."""
    if months < 1:
        raise ValueError("the demo needs at least one month of history")
    return add_months(today, -months) + dt.timedelta(days=1)


def days_between(first: dt.date, last: dt.date) -> Iterator[dt.date]:
    """Every date from ``first`` to ``last``, both included."""
    day = first
    while day <= last:
        yield day
        day += dt.timedelta(days=1)


def month_end(day: dt.date) -> dt.date:
    """The last day of ``day``'s month."""
    return day.replace(day=_calendar.monthrange(day.year, day.month)[1])


def is_business_day(day: dt.date, weekend: tuple[int, ...]) -> bool:
    """Whether ``day`` (``weekday()`` numbering, Monday 0) is not a weekend day."""
    return day.weekday() not in weekend


def last_business_day(day: dt.date, weekend: tuple[int, ...]) -> dt.date:
    """The last business day of ``day``'s month."""
    last = month_end(day)
    while not is_business_day(last, weekend):
        last -= dt.timedelta(days=1)
    return last


def next_business_day(day: dt.date, weekend: tuple[int, ...]) -> dt.date:
    """``day`` itself when it is a business day, else the next one."""
    while not is_business_day(day, weekend):
        day += dt.timedelta(days=1)
    return day


def fiscal_year_start(day: dt.date, start_month: int) -> dt.date:
    """The first day of the fiscal year that contains ``day``."""
    year = day.year if day.month >= start_month else day.year - 1
    return dt.date(year, start_month, 1)
