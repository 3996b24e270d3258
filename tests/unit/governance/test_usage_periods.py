"""Budget periods reset at the company's midnight; prices turn tokens into cost exactly."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from companion.config import ModelPrice
from companion.governance.usage import pricing
from companion.governance.usage.periods import DAY, MONTH, period, zone

UTC = dt.UTC


def test_a_day_in_dhaka_starts_at_18_00_utc_the_evening_before() -> None:
    dhaka = zone("Asia/Dhaka")
    # 19:00 UTC on 5 Dec is 01:00 on 6 Dec in Dhaka (UTC+6): already the next day's budget.
    now = dt.datetime(2026, 12, 5, 19, 0, tzinfo=UTC)
    day = period(DAY, now, dhaka)
    assert day.key == "2026-12-06"
    assert day.starts_at == dt.datetime(2026, 12, 5, 18, 0, tzinfo=UTC)
    assert day.resets_at == dt.datetime(2026, 12, 6, 18, 0, tzinfo=UTC)
    # One second before Dhaka's midnight it is still the 5th.
    before = period(DAY, dt.datetime(2026, 12, 5, 17, 59, 59, tzinfo=UTC), dhaka)
    assert before.key == "2026-12-05" and before.resets_at == day.starts_at


def test_a_month_resets_on_the_first_in_the_company_zone() -> None:
    dhaka = zone("Asia/Dhaka")
    month = period(MONTH, dt.datetime(2026, 12, 31, 17, 59, tzinfo=UTC), dhaka)
    assert month.key == "2026-12"
    assert month.resets_at == dt.datetime(2026, 12, 31, 18, 0, tzinfo=UTC)
    january = period(MONTH, dt.datetime(2026, 12, 31, 18, 0, tzinfo=UTC), dhaka)
    assert january.key == "2027-01" and january.starts_at == month.resets_at
    february = period(MONTH, dt.datetime(2028, 2, 10, tzinfo=UTC), zone("UTC"))
    assert february.resets_at == dt.datetime(2028, 3, 1, tzinfo=UTC)  # a leap year


def test_a_day_across_a_dst_change_is_23_hours_long() -> None:
    new_york = zone("America/New_York")
    day = period(DAY, dt.datetime(2026, 3, 8, 12, 0, tzinfo=UTC), new_york)
    assert day.key == "2026-03-08"
    assert day.resets_at - day.starts_at == dt.timedelta(hours=23)


def test_an_unknown_zone_falls_back_to_the_deployment_default() -> None:
    assert zone("Mars/Olympus", "Asia/Dhaka").key == "Asia/Dhaka"
    assert zone("", "Not/AZone").key == "UTC"
    assert zone("../../etc/passwd").key == "UTC"


def test_cost_comes_from_the_price_table_and_local_models_are_free() -> None:
    prices = {
        "openai_compat:gpt-4o-mini": ModelPrice(
            input_per_1k=Decimal("0.00015"), output_per_1k=Decimal("0.0006")
        ),
        "openai_compat": ModelPrice(input_per_1k=Decimal("0.001"), output_per_1k=Decimal("0.002")),
    }
    exact = pricing.price_of(prices, "openai_compat", "gpt-4o-mini")
    assert pricing.cost_of(exact, 1000, 500) == Decimal("0.000450")
    other = pricing.price_of(prices, "openai_compat", "llama3")
    assert pricing.cost_of(other, 1000, 1000) == Decimal("0.003000")
    local = pricing.price_of(prices, "llamacpp", "smollm2")
    assert pricing.is_free(local) and pricing.cost_of(local, 10**6, 10**6) == 0


def test_counter_micros_never_under_reserve() -> None:
    assert pricing.to_micros(Decimal("0.0000001")) == 1  # rounded up, not lost
    assert pricing.to_micros(Decimal("1.5")) == 1_500_000
    assert pricing.from_micros(1_500_000) == Decimal("1.500000")
