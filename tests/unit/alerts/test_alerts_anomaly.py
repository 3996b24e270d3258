"""The sales-anomaly statistics on synthetic series: spikes, drops, and what is not news."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from companion.alerts import explain
from companion.alerts.detectors.anomaly import Day, find_anomalies, find_bursts
from companion.tenancy.context import RequestContext

START = dt.date(2026, 1, 5)  # a Monday
D = Decimal


def _normal(weeks: int = 12) -> dict[dt.date, Day]:
    """Weekdays with 2-3 invoices of about 100 each; weekends quiet."""
    series = {}
    for i in range(weeks * 7):
        day = START + dt.timedelta(days=i)
        if day.weekday() < 5:
            n = 2 + (i % 3 == 0)
            series[day] = Day(D(95 * n + (i * 7) % 30), n)
    return series


def test_a_quiet_history_has_no_anomaly() -> None:
    series = _normal()
    last = START + dt.timedelta(weeks=12) - dt.timedelta(days=1)
    assert find_anomalies(series, start=START, first=START, last=last) == []


def test_a_day_of_many_more_sales_is_a_spike_with_its_usual_day() -> None:
    series = _normal()
    spike = START + dt.timedelta(weeks=10, days=1)  # a Tuesday
    series[spike] = Day(D("1500"), 9)
    found = find_anomalies(series, start=START, first=spike, last=spike)
    assert [(a.day, a.direction) for a in found] == [(spike, "spike")]
    a = found[0]
    assert a.observed == D("1500") and a.invoices == 9
    assert D("190") <= a.expected <= D("320") and a.ratio is not None and a.ratio > 4


def test_one_large_invoice_is_not_a_spike() -> None:
    series = _normal()
    day = START + dt.timedelta(weeks=10, days=2)
    series[day] = Day(D("2000"), 2)  # the usual count, a big value
    assert find_anomalies(series, start=START, first=day, last=day) == []


def test_an_empty_weekday_is_a_drop_unless_empty_days_happened_lately() -> None:
    series = _normal()
    drop = START + dt.timedelta(weeks=10, days=2)
    del series[drop]
    found = find_anomalies(series, start=START, first=drop, last=drop)
    assert [(a.day, a.direction, a.observed) for a in found] == [(drop, "drop", D("0"))]
    # An earlier empty weekday within the 8 weeks: one more is not news.
    del series[START + dt.timedelta(weeks=6, days=3)]
    assert find_anomalies(series, start=START, first=drop, last=drop) == []


def test_a_day_without_invoices_but_with_orders_is_not_a_standstill() -> None:
    series = {d: Day(v.net, v.invoices, v.invoices) for d, v in _normal().items()}
    day = START + dt.timedelta(weeks=10, days=2)
    # Two orders taken, both cancelled: no sales, but customers came.
    series[day] = Day(D("0"), 0, 2)
    assert find_anomalies(series, start=START, first=day, last=day) == []
    # Nothing at all: the business stood still.
    series[day] = Day(D("0"), 0, 0)
    assert [a.direction for a in find_anomalies(series, start=START, first=day, last=day)] == [
        "drop"
    ]
    # Earlier days whose orders were all cancelled are not idle days: still news.
    series[START + dt.timedelta(weeks=6, days=3)] = Day(D("0"), 0, 1)
    assert len(find_anomalies(series, start=START, first=day, last=day)) == 1


def test_an_empty_weekend_day_and_too_little_history_are_not_anomalies() -> None:
    series = _normal()
    sunday = START + dt.timedelta(weeks=10, days=6)
    assert find_anomalies(series, start=START, first=sunday, last=sunday) == []
    early = START + dt.timedelta(days=8)
    series[early] = Day(D("5000"), 20)
    assert find_anomalies(series, start=START, first=early, last=early) == []


def test_an_empty_series_finds_nothing() -> None:
    assert find_anomalies({}, start=START, first=START, last=START + dt.timedelta(days=60)) == []


def test_bursts_of_a_sparse_series() -> None:
    series = {START + dt.timedelta(days=3 * i): D(100 + 5 * (i % 4)) for i in range(20)}
    big = START + dt.timedelta(days=61)
    series[big] = D("900")
    found = find_bursts(series, first=big, last=big)
    assert [(a.day, a.observed) for a in found] == [(big, D("900"))]
    series[big] = D("180")  # under three times the usual day
    assert find_bursts(series, first=big, last=big) == []


def _ctx(currency: str, locale: str) -> RequestContext:
    return RequestContext(1, "u", 1, "c", currency, ("viewer",), frozenset(), locale=locale)


def test_amounts_read_as_the_company_writes_them() -> None:
    assert explain.amount(D("980000"), _ctx("BDT", "en_IN")) == "BDT 9.8 lakh"
    assert explain.amount(D("12500000"), _ctx("BDT", "en_IN")) == "BDT 1.3 crore"
    assert explain.amount(D("16219.62"), _ctx("USD", "en_US")) == "USD 16,220"
    assert explain.amount(D("12.5"), _ctx("USD", "en_US")) == "USD 12.50"
    assert explain.day(dt.date(2026, 10, 14)) == "Wed 14 Oct"
