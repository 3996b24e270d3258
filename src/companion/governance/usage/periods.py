"""Budget periods: days and months that reset at midnight in the company's time zone."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAY, MONTH = "day", "month"


def zone(name: str | None, default: str = "UTC") -> ZoneInfo:
    """The IANA zone ``name``, or ``default`` when it is empty or unknown."""
    for candidate in (name, default, "UTC"):
        if not candidate:
            continue
        try:
            return ZoneInfo(candidate)
        except (ZoneInfoNotFoundError, ValueError):
            continue
    return ZoneInfo("UTC")  # pragma: no cover - UTC always exists


@dataclass(frozen=True)
class Period:
    """One day or month of one company: its key and when the next one starts (UTC)."""

    kind: str
    key: str
    starts_at: dt.datetime
    resets_at: dt.datetime


def local_date(now: dt.datetime, tz: ZoneInfo) -> dt.date:
    """The company's calendar date at ``now``."""
    return now.astimezone(tz).date()


def period(kind: str, now: dt.datetime, tz: ZoneInfo) -> Period:
    """The day or month holding ``now`` in ``tz``."""
    today = local_date(now, tz)
    if kind == DAY:
        start, end = today, today + dt.timedelta(days=1)
        key = today.isoformat()
    elif kind == MONTH:
        start = today.replace(day=1)
        end = (start + dt.timedelta(days=32)).replace(day=1)
        key = start.strftime("%Y-%m")
    else:
        raise ValueError(f"unknown period {kind!r}")
    return Period(kind, key, _midnight(start, tz), _midnight(end, tz))


def _midnight(day: dt.date, tz: ZoneInfo) -> dt.datetime:
    """Local midnight starting ``day``, in UTC (zoneinfo resolves a DST gap forwards)."""
    local = dt.datetime.combine(day, dt.time(0), tzinfo=tz)
    return local.astimezone(dt.UTC)
