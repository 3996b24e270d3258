"""Periodic jobs: plain functions run for every active company on a schedule.

A periodic job is a name, a schedule (``every(minutes=15)`` or ``daily_at("07:30")`` in each
company's time zone) and a function called as ``fn(session, company, clock)`` inside the
run's own transaction: what it writes commits together with the run marked done, or not at
all. Registering one is one line in ``jobs/schedules/__init__.py`` (docs/operations.md).

Each run is a row of ``jobs`` with a run key (the job's name and its time slot) that is
unique per company, so a tick seen twice (two schedulers, a retried Celery task) makes one
run, and a redelivered run finds its row already claimed or done and does nothing.
"""

from __future__ import annotations

import datetime as dt
import importlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from companion.kit.registry import Registry

log = logging.getLogger(__name__)

KIND_PREFIX = "periodic"
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)

# fn(session, company, clock) -> a JSON-able summary (a dict, a count) or None; a function
# that needs the container (the retriever, the models) is registered with container=True
# and also gets ``container=`` as a keyword.
PeriodicFn = Callable[..., Any]


@dataclass(frozen=True)
class Every:
    """Every ``seconds``, on slots aligned to the epoch (so every process agrees on them)."""

    seconds: int

    def slot(self, now: dt.datetime, tz: dt.tzinfo) -> dt.datetime:
        """The start of the slot ``now`` falls in (UTC)."""
        elapsed = int((now - EPOCH).total_seconds())
        return EPOCH + dt.timedelta(seconds=elapsed - elapsed % self.seconds)

    def next_slot(self, now: dt.datetime, tz: dt.tzinfo) -> dt.datetime:
        """When the next slot after ``now``'s starts (UTC)."""
        return self.slot(now, tz) + dt.timedelta(seconds=self.seconds)

    def describe(self) -> str:
        """How an operator reads it."""
        if self.seconds % 3600 == 0:
            return f"every {self.seconds // 3600} h"
        if self.seconds % 60 == 0:
            return f"every {self.seconds // 60} min"
        return f"every {self.seconds} s"


@dataclass(frozen=True)
class DailyAt:
    """Once a day at ``hour:minute`` in the company's time zone."""

    hour: int
    minute: int

    def _at(self, day: dt.date, tz: dt.tzinfo) -> dt.datetime:
        local = dt.datetime.combine(day, dt.time(self.hour, self.minute), tzinfo=tz)
        return local.astimezone(dt.UTC)

    def slot(self, now: dt.datetime, tz: dt.tzinfo) -> dt.datetime:
        """The latest ``hour:minute`` local time at or before ``now`` (UTC)."""
        today = now.astimezone(tz).date()
        at = self._at(today, tz)
        return at if at <= now else self._at(today - dt.timedelta(days=1), tz)

    def next_slot(self, now: dt.datetime, tz: dt.tzinfo) -> dt.datetime:
        """The next ``hour:minute`` local time after ``now`` (UTC)."""
        today = now.astimezone(tz).date()
        at = self._at(today, tz)
        return at if at > now else self._at(today + dt.timedelta(days=1), tz)

    def describe(self) -> str:
        """How an operator reads it."""
        return f"daily at {self.hour:02d}:{self.minute:02d} (company time)"


Schedule = Every | DailyAt


def every(*, seconds: int = 0, minutes: int = 0, hours: int = 0) -> Every:
    """An interval schedule (at least a minute: the scheduler ticks every 30 s by default)."""
    total = seconds + 60 * minutes + 3600 * hours
    if total < 60:
        raise ValueError("a periodic job runs at most once a minute")
    return Every(total)


def daily_at(hhmm: str) -> DailyAt:
    """A daily schedule from ``"HH:MM"`` (24-hour, the company's local time)."""
    try:
        hour_text, minute_text = hhmm.split(":")
        hour, minute = int(hour_text), int(minute_text)
    except ValueError as exc:
        raise ValueError(f"daily_at needs 'HH:MM', not {hhmm!r}") from exc
    if not (0 <= hour < 24 and 0 <= minute < 60):
        raise ValueError(f"daily_at needs 'HH:MM' within a day, not {hhmm!r}")
    return DailyAt(hour, minute)


@dataclass(frozen=True)
class PeriodicJob:
    """One registered periodic job."""

    name: str
    schedule: Schedule
    # "package.module:function" (imported on the first run, so registering imports nothing)
    # or the function itself.
    target: str | PeriodicFn = field(compare=False)
    container: bool = False

    @property
    def kind(self) -> str:
        """The ``jobs.kind`` of its runs."""
        return f"{KIND_PREFIX}:{self.name}"

    def function(self) -> PeriodicFn:
        """The function to call (a dotted target is imported now)."""
        if callable(self.target):
            return self.target
        module_name, _, attr = self.target.partition(":")
        function = getattr(importlib.import_module(module_name), attr)
        if not callable(function):
            raise TypeError(f"{self.target} is not a function")
        return function  # type: ignore[no-any-return]


PERIODIC: Registry[PeriodicJob] = Registry(
    "companion.jobs.schedules", duplicate="a periodic job named {name!r} is registered already"
)


def periodic(
    name: str, schedule: Schedule, target: str | PeriodicFn, *, container: bool = False
) -> PeriodicJob:
    """Register a periodic job (one line in ``jobs/schedules``); the job."""
    if not name or len(name) > 64 or ":" in name or "@" in name:
        raise ValueError(f"a periodic job's name is 1-64 characters without ':' or '@': {name!r}")
    if isinstance(target, str) and ":" not in target:
        raise ValueError(f"a target is 'package.module:function', not {target!r}")
    return PERIODIC.register(name, PeriodicJob(name, schedule, target, container))


def registered() -> list[PeriodicJob]:
    """Every registered periodic job, by name."""
    return [job for _, job in sorted(PERIODIC.items().items())]


def run_key(name: str, slot: dt.datetime) -> str:
    """The key that makes one run of ``name`` per slot and company."""
    return f"{name}@{slot.astimezone(dt.UTC):%Y-%m-%dT%H:%M:%SZ}"


def zone(name: str | None) -> dt.tzinfo:
    """A company's time zone (UTC when unknown: a typo must not stop its jobs)."""
    try:
        return ZoneInfo(name) if name else dt.UTC
    except (ZoneInfoNotFoundError, ValueError):
        log.warning("unknown time zone %r: periodic jobs use UTC", name)
        return dt.UTC
