"""Sales anomalies, explainably: a seasonal baseline by weekday and robust z-scores.

Pure functions over a daily series (no database). For each day:

- The baseline is the median of the same weekday over the previous ``weeks`` weeks (at
  least ``min_weeks`` of them): the usual Tuesday.
- The residual is the day less its baseline, for the number of invoices and for the log of
  the value. Its robust z-score divides it (less the median residual) by 1.4826 x the
  median absolute deviation of the residuals of every day of those weeks; the invoice
  count's scale is at least one invoice (counts are whole numbers).
- A spike is a day whose invoice count's z-score reaches ``z`` while its value is up too
  (at least ``value_ratio`` times the usual day): many more sales than a usual such day,
  not one large invoice.
- A drop is a day when the business stood still: no invoice and no order taken, where the
  weekday usually has sales, and where such idle days have been rare lately: among the
  comparable days (those whose weekday usually has sales) of the previous ``empty_weeks``
  weeks, the share of idle days, estimated as (idle + 1) / (days + 2), is under
  ``max_empty_rate``. Where idle days happen now and then, one more is not news.

  Why orders count: a day whose orders were all cancelled, or are not invoiced yet, has no
  sales but had customers; its zero is explained by what became of the orders, not by the
  business standing still. On a weekday with two orders or so, such zeros happen a few
  times a year (a cancelled order or two), as often as real standstills, so the invoice
  count alone cannot tell them apart: the number of orders taken can. A series without
  order counts (``Day.orders`` None) is judged on its invoices alone.

``bench/alerts_eval.py`` scores this against the demo's injected anomalies.
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

MAD_TO_SIGMA = 1.4826
ZERO = Decimal("0")


@dataclass(frozen=True)
class Day:
    """One day's sales: net value, the number of invoices and of orders taken (if known)."""

    net: Decimal
    invoices: int
    orders: int | None = None


@dataclass(frozen=True)
class Params:
    weeks: int = 8
    min_weeks: int = 3
    z: float = 3.5
    value_ratio: float = 1.5
    empty_weeks: int = 12
    max_empty_rate: float = 0.04
    min_count_scale: float = 1.0
    min_value_scale: float = 0.1


@dataclass(frozen=True)
class Anomaly:
    """An unusual day: what happened against what the same weekday usually brings."""

    day: dt.date
    direction: str  # spike or drop
    observed: Decimal
    expected: Decimal
    invoices: int
    usual_invoices: float
    z: float  # the invoice count's robust z-score
    value_z: float

    @property
    def ratio(self) -> float | None:
        """Observed / expected, when something is usually sold."""
        return float(self.observed / self.expected) if self.expected > 0 else None


def _median(values: list[float]) -> float:
    return float(statistics.median(values)) if values else 0.0


def _mad(values: list[float]) -> float:
    centre = _median(values)
    return _median([abs(v - centre) for v in values])


class _Series:
    """The series with every day from ``start`` present (a missing day sold nothing)."""

    def __init__(self, series: Mapping[dt.date, Day], start: dt.date, p: Params) -> None:
        self.series, self.start, self.p = series, start, p
        positive = [float(d.net) for d in series.values() if d.net > 0]
        # Keeps log() finite on empty days; a tenth of a typical day's sales.
        self.eps = 0.1 * _median(positive) if positive else 1.0
        self._base: dict[dt.date, tuple[float, float] | None] = {}

    def at(self, day: dt.date) -> Day:
        return self.series.get(day, Day(ZERO, 0))

    def idle(self, day: dt.date) -> bool:
        """No invoice and no order taken (orders unknown: no invoice)."""
        here = self.at(day)
        return here.invoices == 0 and not here.orders

    def baseline(self, day: dt.date) -> tuple[float, float] | None:
        """(usual invoice count, usual value) of ``day``'s weekday, or None: too little history."""
        if day not in self._base:
            same = [
                self.at(day - dt.timedelta(weeks=k))
                for k in range(1, self.p.weeks + 1)
                if day - dt.timedelta(weeks=k) >= self.start
            ]
            self._base[day] = (
                (_median([d.invoices for d in same]), _median([float(d.net) for d in same]))
                if len(same) >= self.p.min_weeks
                else None
            )
        return self._base[day]

    def residuals(self, day: dt.date) -> tuple[float, float] | None:
        base = self.baseline(day)
        if base is None:
            return None
        here = self.at(day)
        value = math.log((float(here.net) + self.eps) / (base[1] + self.eps))
        return here.invoices - base[0], value

    def window(self, day: dt.date) -> list[dt.date]:
        first = max(self.start, day - dt.timedelta(weeks=self.p.weeks))
        return [first + dt.timedelta(days=i) for i in range((day - first).days)]


def find_anomalies(
    series: Mapping[dt.date, Day],
    *,
    start: dt.date,
    first: dt.date,
    last: dt.date,
    params: Params | None = None,
) -> list[Anomaly]:
    """The spikes and drops among the days ``first``..``last``; history begins at ``start``."""
    p = params or Params()
    s = _Series(series, start, p)
    found = []
    day = max(first, start)
    while day <= last:
        anomaly = _judge(s, day)
        if anomaly is not None:
            found.append(anomaly)
        day += dt.timedelta(days=1)
    return found


def _judge(s: _Series, day: dt.date) -> Anomaly | None:
    p = s.p
    base, here = s.baseline(day), s.residuals(day)
    if base is None or here is None:
        return None
    prior = [r for d in s.window(day) if (r := s.residuals(d)) is not None]
    if len(prior) < 2 * 7:
        return None
    counts, values = [r[0] for r in prior], [r[1] for r in prior]
    count_scale = max(MAD_TO_SIGMA * _mad(counts), p.min_count_scale)
    value_scale = max(MAD_TO_SIGMA * _mad(values), p.min_value_scale)
    z = (here[0] - _median(counts)) / count_scale
    value_z = (here[1] - _median(values)) / value_scale
    today = s.at(day)
    direction = None
    if z >= p.z and float(today.net) >= p.value_ratio * base[1]:
        direction = "spike"
    elif s.idle(day) and base[0] >= 1 and _empty_rate_before(s, day) < p.max_empty_rate:
        direction = "drop"
    if direction is None:
        return None
    return Anomaly(
        day=day,
        direction=direction,
        observed=today.net,
        expected=Decimal(str(round(base[1], 2))),
        invoices=today.invoices,
        usual_invoices=base[0],
        z=round(z, 2),
        value_z=round(value_z, 2),
    )


def _empty_rate_before(s: _Series, day: dt.date) -> float:
    """The share of comparable days that were idle over the weeks before ``day`` (Laplace)."""
    first = max(s.start, day - dt.timedelta(weeks=s.p.empty_weeks))
    comparable = empty = 0
    for i in range((day - first).days):
        d = first + dt.timedelta(days=i)
        base = s.baseline(d)
        if base is not None and base[0] >= 1:
            comparable += 1
            empty += s.idle(d)
    return (empty + 1) / (comparable + 2)


def find_bursts(
    series: Mapping[dt.date, Decimal],
    *,
    first: dt.date,
    last: dt.date,
    params: Params | None = None,
    min_ratio: float = 3.0,
    min_days: int = 4,
) -> list[Anomaly]:
    """Unusually large days of a sparse series (one customer's or item's sales).

    A customer buys on some days only, so the baseline is the median of the days with
    sales in the previous ``weeks`` weeks (at least ``min_days`` of them), and the robust
    z-score is that of the log of the value among those days.
    """
    p = params or Params()
    found = []
    for day in sorted(d for d, v in series.items() if first <= d <= last and v > 0):
        since = day - dt.timedelta(weeks=p.weeks)
        prior = [float(v) for d, v in series.items() if since <= d < day and v > 0]
        if len(prior) < min_days:
            continue
        logs = [math.log(v) for v in prior]
        scale = max(MAD_TO_SIGMA * _mad(logs), p.min_value_scale)
        value = float(series[day])
        z = (math.log(value) - _median(logs)) / scale
        expected = _median(prior)
        if z >= p.z and value >= min_ratio * expected:
            found.append(
                Anomaly(
                    day=day,
                    direction="spike",
                    observed=series[day],
                    expected=Decimal(str(round(expected, 2))),
                    invoices=0,
                    usual_invoices=0.0,
                    z=round(z, 2),
                    value_z=round(z, 2),
                )
            )
    return found
