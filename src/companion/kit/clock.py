"""The clock port: business dates come from here, so tests and demos can fix 'today'."""

from __future__ import annotations

import datetime as dt
from typing import Protocol


class Clock(Protocol):
    def today(self) -> dt.date: ...

    def now(self) -> dt.datetime: ...


class SystemClock:
    """Real time, with an optional fixed business date (``COMPANION_TODAY``)."""

    def __init__(self, fixed_today: dt.date | None = None) -> None:
        self._fixed_today = fixed_today

    def today(self) -> dt.date:
        return self._fixed_today or dt.date.today()

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)


class FixedClock:
    """A clock that stands still (tests); ``advance`` moves it."""

    def __init__(self, now: dt.datetime) -> None:
        if now.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")
        self._now = now

    def today(self) -> dt.date:
        return self._now.date()

    def now(self) -> dt.datetime:
        return self._now

    def advance(self, delta: dt.timedelta) -> None:
        self._now += delta
