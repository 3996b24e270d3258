import datetime as dt
from decimal import Decimal

import pytest

from companion.demo.calendar import (
    add_months,
    days_between,
    demo_start,
    fiscal_year_start,
    is_business_day,
    last_business_day,
    next_business_day,
)
from companion.demo.streams import SEED, jitter, stream

FRIDAY = (4,)
WEEKEND = (5, 6)


def test_a_stream_is_the_same_sequence_every_time() -> None:
    one, two = stream("acme", "sales"), stream("acme", "sales")
    assert [one.randint(0, 10**9) for _ in range(5)] == [two.randint(0, 10**9) for _ in range(5)]


def test_streams_with_different_names_or_seeds_differ() -> None:
    values = {
        stream("acme", "sales").random(),
        stream("globex", "sales").random(),
        stream("acme", "purchasing").random(),
        stream("acme", "sales", seed=SEED + 1).random(),
    }
    assert len(values) == 4


def test_a_known_stream_value_is_pinned() -> None:
    # If this changes, demos built before and after the change differ.
    assert stream("pin").getrandbits(32) == 4185762077


def test_jitter_stays_within_its_percentage() -> None:
    rng = stream("test", "jitter")
    for _ in range(200):
        value = jitter(rng, Decimal("1000"), 12)
        assert Decimal("880") <= value <= Decimal("1120")


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (dt.date(2026, 1, 31), 1, dt.date(2026, 2, 28)),
        (dt.date(2024, 1, 31), 1, dt.date(2024, 2, 29)),
        (dt.date(2026, 3, 15), -13, dt.date(2025, 2, 15)),
        (dt.date(2026, 12, 31), 2, dt.date(2027, 2, 28)),
    ],
)
def test_add_months_clamps_to_the_end_of_the_month(
    day: dt.date, months: int, expected: dt.date
) -> None:
    assert add_months(day, months) == expected


def test_history_starts_the_day_after_the_same_date_months_back() -> None:
    assert demo_start(dt.date(2026, 3, 15), 13) == dt.date(2025, 2, 16)
    assert len(list(days_between(dt.date(2026, 1, 30), dt.date(2026, 2, 2)))) == 4
    with pytest.raises(ValueError):
        demo_start(dt.date(2026, 3, 15), 0)


def test_business_days_follow_each_company_weekend() -> None:
    friday, saturday = dt.date(2026, 3, 13), dt.date(2026, 3, 14)
    assert not is_business_day(friday, FRIDAY) and is_business_day(saturday, FRIDAY)
    assert is_business_day(friday, WEEKEND) and not is_business_day(saturday, WEEKEND)
    assert next_business_day(saturday, WEEKEND) == dt.date(2026, 3, 16)
    assert next_business_day(friday, FRIDAY) == saturday
    # July 2026 ends on a Friday: Acme's last business day is Thursday the 30th.
    assert last_business_day(dt.date(2026, 7, 4), FRIDAY) == dt.date(2026, 7, 30)
    assert last_business_day(dt.date(2026, 5, 1), WEEKEND) == dt.date(2026, 5, 29)


def test_fiscal_years_start_in_the_company_month() -> None:
    assert fiscal_year_start(dt.date(2026, 3, 15), 7) == dt.date(2025, 7, 1)
    assert fiscal_year_start(dt.date(2026, 7, 1), 7) == dt.date(2026, 7, 1)
    assert fiscal_year_start(dt.date(2026, 3, 15), 1) == dt.date(2026, 1, 1)
