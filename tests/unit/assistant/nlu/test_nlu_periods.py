from __future__ import annotations

import datetime as dt

import pytest

from companion.assistant.nlu.entities import calendar as cal
from companion.assistant.nlu.entities.periods import extract_dates, parse_date

TODAY = dt.date(2026, 11, 23)  # a Monday


def period(text: str, fy: int = 1, today: dt.date = TODAY) -> tuple[str, str] | None:
    found = extract_dates(text, today=today, fiscal_year_start_month=fy).period
    return (found.start.isoformat(), found.end.isoformat()) if found else None


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("sales today", "2026-11-23", "2026-11-23"),
        ("what did we sell yesterday", "2026-11-22", "2026-11-22"),
        ("this week", "2026-11-23", "2026-11-29"),
        ("last week", "2026-11-16", "2026-11-22"),
        ("this month", "2026-11-01", "2026-11-30"),
        ("sales last month", "2026-10-01", "2026-10-31"),
        ("previous month", "2026-10-01", "2026-10-31"),
        ("this quarter", "2026-10-01", "2026-12-31"),
        ("last quarter", "2026-07-01", "2026-09-30"),
        ("last qtr", "2026-07-01", "2026-09-30"),
        ("this year", "2026-01-01", "2026-12-31"),
        ("last year", "2025-01-01", "2025-12-31"),
        ("Q3", "2026-07-01", "2026-09-30"),
        ("q1", "2026-01-01", "2026-03-31"),
        ("Q3 2025", "2025-07-01", "2025-09-30"),
        ("in March", "2026-03-01", "2026-03-31"),
        ("sales in december", "2025-12-01", "2025-12-31"),
        ("March 2026", "2026-03-01", "2026-03-31"),
        ("Dec 2025", "2025-12-01", "2025-12-31"),
        ("march last year", "2025-03-01", "2025-03-31"),
        ("last 30 days", "2026-10-25", "2026-11-23"),
        ("the last 90 days", "2026-08-26", "2026-11-23"),
        ("past 3 months", "2026-08-24", "2026-11-23"),
        ("last two weeks", "2026-11-10", "2026-11-23"),
        ("past week", "2026-11-17", "2026-11-23"),
        ("year to date", "2026-01-01", "2026-11-23"),
        ("ytd", "2026-01-01", "2026-11-23"),
        ("month to date", "2026-11-01", "2026-11-23"),
        ("this fiscal year", "2026-01-01", "2026-12-31"),
        ("FY2026", "2026-01-01", "2026-12-31"),
        ("from 1 Jan to 15 Feb", "2026-01-01", "2026-02-15"),
        ("from 1 Jan 2025 to 15 Feb 2025", "2025-01-01", "2025-02-15"),
        ("between 1 March and 31 March", "2026-03-01", "2026-03-31"),
        ("2026-01-01 to 2026-03-31", "2026-01-01", "2026-03-31"),
        ("from March to May", "2026-03-01", "2026-05-31"),
        ("since March", "2026-03-01", "2026-11-23"),
        ("for 2025", "2025-01-01", "2025-12-31"),
        ("next month", "2026-12-01", "2026-12-31"),
        ("SALES LAST MONTH", "2026-10-01", "2026-10-31"),
    ],
)
def test_periods_with_a_calendar_year(text: str, start: str, end: str) -> None:
    assert period(text) == (start, end)


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("this fiscal year", "2026-07-01", "2027-06-30"),
        ("last fiscal year", "2025-07-01", "2026-06-30"),
        ("FY2026", "2025-07-01", "2026-06-30"),
        ("fy 2025-26", "2025-07-01", "2026-06-30"),
        ("year to date", "2026-07-01", "2026-11-23"),
        ("ytd", "2026-07-01", "2026-11-23"),
        ("this quarter", "2026-10-01", "2026-12-31"),
        ("Q1", "2026-07-01", "2026-09-30"),
        ("Q3", "2026-01-01", "2026-03-31"),
        ("Q3 2025", "2025-01-01", "2025-03-31"),
        # Year words follow the fiscal year, like quarters and year-to-date (one rule).
        ("this year", "2026-07-01", "2027-06-30"),
        ("this year so far", "2026-07-01", "2026-11-23"),
        ("last year", "2025-07-01", "2026-06-30"),
        ("ei bochor", "2026-07-01", "2027-06-30"),
        # A year written as a number, or called a calendar year, is the calendar year.
        ("in 2026", "2026-01-01", "2026-12-31"),
        ("for 2025", "2025-01-01", "2025-12-31"),
        ("this calendar year", "2026-01-01", "2026-12-31"),
        ("last calendar year", "2025-01-01", "2025-12-31"),
    ],
)
def test_periods_with_a_july_fiscal_year(text: str, start: str, end: str) -> None:
    assert period(text, fy=7) == (start, end)


@pytest.mark.parametrize(
    ("text", "fy", "basis", "name"),
    [
        ("sales this year", 1, "calendar", "calendar year"),
        ("sales this year", 7, "fiscal", "fiscal year 2026–27"),
        ("this year so far", 1, "calendar", "calendar year to date"),
        ("ytd", 7, "fiscal", "fiscal year 2026–27 to date"),
        ("last year", 7, "fiscal", "fiscal year 2025–26"),
        ("Q3", 1, "calendar", "calendar Q3"),
        ("Q3", 7, "fiscal", "Q3 of fiscal year 2025–26"),
        ("last quarter", 7, "fiscal", "Q1 of fiscal year 2026–27"),
        ("in 2026", 7, "calendar", "calendar year"),
        ("FY2026", 7, "fiscal", "fiscal year 2025–26"),
    ],
)
def test_years_and_quarters_say_which_calendar_they_follow(
    text: str, fy: int, basis: str, name: str
) -> None:
    found = extract_dates(text, today=TODAY, fiscal_year_start_month=fy).period
    assert found is not None
    shown = found.to_dict()
    assert (shown["basis"], shown["name"]) == (basis, name)


def test_months_and_days_carry_no_calendar_name() -> None:
    found = extract_dates("sales last month", today=TODAY, fiscal_year_start_month=7).period
    assert found is not None and found.to_dict() == {"start": "2026-10-01", "end": "2026-10-31"}


def test_quarter_not_yet_started_means_the_previous_one() -> None:
    early = dt.date(2026, 2, 10)
    assert period("Q3", today=early) == ("2025-07-01", "2025-09-30")
    assert period("in May", today=early) == ("2025-05-01", "2025-05-31")


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("as of 2026-03-31", "2026-03-31"),
        ("on 5 March", "2026-03-05"),
        ("March 5th", "2026-03-05"),
        ("5th of March 2025", "2025-03-05"),
        ("05/03/2026", "2026-03-05"),
        ("at 31 March", "2026-03-31"),
        ("end of last month", "2026-10-31"),
        ("month end", "2026-10-31"),
        ("end of last quarter", "2026-09-30"),
        ("at the end of last year", "2025-12-31"),
    ],
)
def test_single_dates(text: str, day: str) -> None:
    found = extract_dates(text, today=TODAY)
    assert found.date is not None
    assert found.date.isoformat() == day
    assert found.period is None


@pytest.mark.parametrize(
    "text",
    [
        "what's our cash balance",
        "may I see the sales",
        "approve PO-2026-0042",
        "top 5 customers",
        "over 50k",
        "2 weeks",
        "march on",
        "নগদ কত আছে?",
        "31/02/2026",
    ],
)
def test_no_period_or_date(text: str) -> None:
    found = extract_dates(text, today=TODAY)
    assert found.period is None
    assert found.date is None


def test_period_and_date_together_and_spans() -> None:
    text = "sales last month as of 2026-11-01"
    found = extract_dates(text, today=TODAY)
    assert found.period is not None and found.period.text == "last month"
    assert found.date == dt.date(2026, 11, 1)
    assert [text[s:e] for s, e in found.spans] == ["last month", "2026-11-01"]
    assert found.period.to_dict() == {"start": "2026-10-01", "end": "2026-10-31"}


def test_invalid_fiscal_month_is_refused() -> None:
    with pytest.raises(ValueError):
        extract_dates("this year", today=TODAY, fiscal_year_start_month=13)


def test_parse_date_and_calendar_helpers() -> None:
    assert parse_date("29 Feb 2028", TODAY) == dt.date(2028, 2, 29)
    assert parse_date("29 Feb 2026", TODAY) is None
    assert cal.add_months(dt.date(2026, 1, 31), 1) == dt.date(2026, 2, 28)
    assert cal.fiscal_year_label(dt.date(2026, 6, 30), 7) == 2026
    assert cal.fiscal_year_label(dt.date(2026, 7, 1), 7) == 2027
    assert cal.fiscal_quarter_of(dt.date(2026, 11, 23), 7) == (2027, 2)
    assert cal.shift_quarter(2026, 1, -1) == (2025, 4)


def test_end_of_last_year_is_the_end_of_the_last_fiscal_year() -> None:
    found = extract_dates("at the end of last year", today=TODAY, fiscal_year_start_month=7)
    assert found.date == dt.date(2026, 6, 30)
