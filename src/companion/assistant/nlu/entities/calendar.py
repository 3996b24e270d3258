"""Calendar arithmetic for periods: months, weeks, fiscal years and fiscal quarters.

Fiscal years are named by the calendar year they end in (with a July start, FY2026 runs
2025-07-01 to 2026-06-30); with a January start they are calendar years. Quarters are fiscal
quarters, counted from the fiscal year's first month.
"""

from __future__ import annotations

import datetime as dt


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` moved by whole months, clamped to the target month's last day."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return dt.date(year, month + 1, min(day.day, month_end(year, month + 1).day))


def month_end(year: int, month: int) -> dt.date:
    """The last day of a month."""
    first_next = dt.date(year + month // 12, month % 12 + 1, 1)
    return first_next - dt.timedelta(days=1)


def month_bounds(year: int, month: int) -> tuple[dt.date, dt.date]:
    """First and last day of a month."""
    return dt.date(year, month, 1), month_end(year, month)


def week_bounds(day: dt.date) -> tuple[dt.date, dt.date]:
    """Monday to Sunday of ``day``'s week."""
    start = day - dt.timedelta(days=day.weekday())
    return start, start + dt.timedelta(days=6)


def fiscal_year_label(day: dt.date, start_month: int) -> int:
    """The fiscal year ``day`` falls in, named by the year it ends in."""
    if start_month == 1 or day.month < start_month:
        return day.year
    return day.year + 1


def fiscal_year_bounds(label: int, start_month: int) -> tuple[dt.date, dt.date]:
    """First and last day of fiscal year ``label``."""
    start = dt.date(label if start_month == 1 else label - 1, start_month, 1)
    return start, add_months(start, 12) - dt.timedelta(days=1)


def fiscal_quarter_bounds(label: int, quarter: int, start_month: int) -> tuple[dt.date, dt.date]:
    """First and last day of quarter 1-4 of fiscal year ``label``."""
    fy_start, _ = fiscal_year_bounds(label, start_month)
    start = add_months(fy_start, 3 * (quarter - 1))
    return start, add_months(start, 3) - dt.timedelta(days=1)


def fiscal_quarter_of(day: dt.date, start_month: int) -> tuple[int, int]:
    """(fiscal year label, quarter 1-4) containing ``day``."""
    label = fiscal_year_label(day, start_month)
    fy_start, _ = fiscal_year_bounds(label, start_month)
    months = (day.year - fy_start.year) * 12 + day.month - fy_start.month
    return label, months // 3 + 1


def shift_quarter(label: int, quarter: int, by: int) -> tuple[int, int]:
    """The fiscal quarter ``by`` quarters away."""
    index = label * 4 + quarter - 1 + by
    return index // 4, index % 4 + 1
