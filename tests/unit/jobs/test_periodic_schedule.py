"""Periodic schedules: slots every process agrees on, in each company's time zone."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from companion.jobs.periodic import (
    PERIODIC,
    DailyAt,
    Every,
    daily_at,
    every,
    periodic,
    registered,
    run_key,
    zone,
)

UTC = dt.UTC
DHAKA = ZoneInfo("Asia/Dhaka")  # UTC+6, no daylight saving
NEW_YORK = ZoneInfo("America/New_York")


def at(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


def test_an_interval_slot_is_aligned_to_the_epoch_so_every_process_agrees() -> None:
    quarter = every(minutes=15)
    assert quarter == Every(900)
    assert quarter.slot(at(2026, 12, 6, 8, 14, 59), UTC) == at(2026, 12, 6, 8, 0)
    assert quarter.slot(at(2026, 12, 6, 8, 15), UTC) == at(2026, 12, 6, 8, 15)
    assert quarter.next_slot(at(2026, 12, 6, 8, 15), UTC) == at(2026, 12, 6, 8, 30)
    # A time zone does not move an interval's slots.
    assert quarter.slot(at(2026, 12, 6, 8, 14), DHAKA) == at(2026, 12, 6, 8, 0)
    assert every(hours=2).describe() == "every 2 h" and quarter.describe() == "every 15 min"


def test_a_daily_slot_is_the_latest_local_time_at_or_before_now() -> None:
    seven = daily_at("07:30")
    assert seven == DailyAt(7, 30)
    # 07:30 in Dhaka is 01:30 UTC.
    assert seven.slot(at(2026, 12, 6, 1, 29), DHAKA) == at(2026, 12, 5, 1, 30)
    assert seven.slot(at(2026, 12, 6, 1, 30), DHAKA) == at(2026, 12, 6, 1, 30)
    assert seven.next_slot(at(2026, 12, 6, 1, 30), DHAKA) == at(2026, 12, 7, 1, 30)
    # Just after local midnight in Dhaka (still the 5th in UTC): yesterday's 07:30 local.
    assert seven.slot(at(2026, 12, 5, 18, 5), DHAKA) == at(2026, 12, 5, 1, 30)
    assert seven.slot(at(2026, 12, 6, 12, 0), UTC) == at(2026, 12, 6, 7, 30)


def test_a_daily_slot_follows_daylight_saving() -> None:
    seven = daily_at("07:00")
    # New York: EDT (UTC-4) in July, EST (UTC-5) in December.
    assert seven.slot(at(2026, 7, 1, 12, 0), NEW_YORK) == at(2026, 7, 1, 11, 0)
    assert seven.slot(at(2026, 12, 1, 12, 0), NEW_YORK) == at(2026, 12, 1, 12, 0)
    # The night the clocks go back (1 Nov 2026) still has exactly one 07:00.
    assert seven.next_slot(at(2026, 10, 31, 12, 0), NEW_YORK) == at(2026, 11, 1, 12, 0)


@pytest.mark.parametrize("text", ["7", "24:00", "07:60", "ab:cd", "", "07:30:00", "-1:10"])
def test_a_bad_daily_time_is_refused_by_name(text: str) -> None:
    with pytest.raises(ValueError, match="HH:MM"):
        daily_at(text)


def test_intervals_under_a_minute_are_refused() -> None:
    with pytest.raises(ValueError, match="once a minute"):
        every(seconds=59)
    assert every(seconds=60) == Every(60)


def test_run_keys_name_the_job_and_its_utc_slot() -> None:
    slot = dt.datetime(2026, 12, 6, 7, 30, tzinfo=DHAKA)
    assert run_key("alerts.scan", slot) == "alerts.scan@2026-12-06T01:30:00Z"


def test_an_unknown_time_zone_falls_back_to_utc() -> None:
    assert zone("Mars/Olympus_Mons") is UTC
    assert zone(None) is UTC and zone("") is UTC
    assert zone("Asia/Dhaka") == DHAKA


def test_registering_is_one_line_and_names_are_checked() -> None:
    with PERIODIC.restored():
        job = periodic("test.one", every(minutes=5), "companion.jobs.service:prune_finished")
        assert job.kind == "periodic:test.one"
        assert job in registered() and PERIODIC.get("test.one") is job
        assert job.function().__name__ == "prune_finished"
        with pytest.raises(ValueError, match="registered already"):
            periodic("test.one", every(minutes=5), "companion.jobs.service:other")
        for bad in ["", "a:b", "a@b", "x" * 65]:
            with pytest.raises(ValueError, match="1-64 characters"):
                periodic(bad, every(minutes=5), "m:f")
        with pytest.raises(ValueError, match="package.module:function"):
            periodic("test.two", every(minutes=5), "companion.jobs.service.prune_finished")
    assert PERIODIC.get("test.one") is None


def test_the_shipped_schedule_prunes_old_jobs_nightly() -> None:
    names = {job.name: job for job in registered()}
    assert names["jobs.prune"].schedule == DailyAt(3, 15)
