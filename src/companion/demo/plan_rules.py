"""Pure rules of the plan: aging buckets, document totals, anomaly figures."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from companion.demo.plan import AnomalyPlan, CompanyPlan, ItemPlan, PlanLine
from companion.kit.money import money
from companion.kit.pricing import DocumentTotals, document_totals, line_amounts

# Ages of open invoices the demo always has, so aging reports have every bucket filled.
AGE_BUCKETS = ((-10_000, 0, "current"), (1, 30, "1-30"), (31, 60, "31-60"), (61, 90, "61-90"))
OLDEST_BUCKET = "90+"


def bucket_of(due: dt.date, today: dt.date) -> str:
    """The aging bucket of a document due on ``due``, seen on ``today``."""
    overdue = (today - due).days
    for low, high, name in AGE_BUCKETS:
        if low <= overdue <= high:
            return name
    return OLDEST_BUCKET


def document_amounts(
    items: dict[str, ItemPlan], lines: tuple[PlanLine, ...], *, price: str
) -> DocumentTotals:
    """Totals exactly as the document services compute them (``erp.documents``)."""
    amounts = []
    for line in lines:
        spec = items[line.sku].spec
        unit = spec.price if price == "sale" else spec.cost
        amounts.append(line_amounts(line.quantity, unit, line.discount_pct, spec.tax_rate))
    return document_totals(amounts)


def fill_anomaly_figures(plan: CompanyPlan, daily: dict[dt.date, Decimal]) -> None:
    """Record what each anomaly day sold against its usual level (same weekday, 4 weeks)."""
    days = {a.day for a in plan.anomalies}
    filled = []
    for anomaly in plan.anomalies:
        history = [
            daily.get(anomaly.day - dt.timedelta(weeks=k), Decimal("0"))
            for k in range(1, 5)
            if anomaly.day - dt.timedelta(weeks=k) >= plan.start
            and anomaly.day - dt.timedelta(weeks=k) not in days
        ]
        baseline = money(sum(history, Decimal("0")) / len(history)) if history else Decimal("0")
        filled.append(
            AnomalyPlan(
                anomaly.day,
                anomaly.metric,
                anomaly.direction,
                anomaly.factor,
                anomaly.description,
                money(daily.get(anomaly.day, Decimal("0"))),
                baseline,
            )
        )
    plan.anomalies[:] = filled
