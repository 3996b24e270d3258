"""Sales anomalies: the company's daily sales, and those of its largest customers and items.

The statistics are in ``anomaly.py``; this module reads the series through the one
definition of sales (``erp.invoicing.sales_repository``) and words each finding.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy.orm import Session

from companion.alerts import explain
from companion.alerts.detectors.anomaly import Anomaly, Day, Params, find_anomalies, find_bursts
from companion.alerts.detectors.base import Finding, ScanInput, register_detector
from companion.erp.invoicing import sales_repository as sales
from companion.erp.invoicing.sales_repository import By
from companion.erp.items import repository as items_repo
from companion.erp.parties import repository as parties_repo
from companion.erp.sales import repository as orders_repo
from companion.tenancy.context import RequestContext

TYPE = "sales_anomaly"
PERMISSION = "sales.read"  # sales totals (tenancy/figures.py: sales_totals)


def company_series(
    session: Session, ctx: RequestContext, first: dt.date, last: dt.date
) -> dict[dt.date, Day]:
    """The company's days with sales or orders: net sales, invoices and orders taken."""
    orders = orders_repo.daily_orders(session, ctx, first, last)
    series = {
        r.day: Day(r.net, r.invoices, orders.get(r.day, 0))
        for r in sales.daily_sales(session, ctx, first, last)
    }
    for day, n in orders.items():
        series.setdefault(day, Day(Decimal("0"), 0, n))
    return series


class SalesAnomalies:
    name = "sales_anomalies"
    types: tuple[str, ...] = (TYPE,)
    state = False

    def detect(self, scan: ScanInput) -> list[Finding]:
        """Unusual days among the last ``anomaly_days`` (ending yesterday)."""
        params = Params(z=scan.settings.anomaly_z)
        last = scan.today - dt.timedelta(days=1)
        first = scan.today - dt.timedelta(days=scan.settings.anomaly_days)
        # Each day needs its weekday's weeks of history, and those days theirs.
        read_from = first - dt.timedelta(weeks=params.weeks + params.empty_weeks + 1)
        series = company_series(scan.session, scan.ctx, read_from, last)
        if not series:
            return []
        start = min(series)
        company = find_anomalies(series, start=start, first=first, last=last, params=params)
        findings = [self._company(scan, a) for a in company]
        days = {a.day for a in company}
        findings += self._parties(scan, read_from, first, last, days, params)
        return findings

    @staticmethod
    def _company(scan: ScanInput, a: Anomaly) -> Finding:
        ctx = scan.ctx
        usual = f"the usual {explain.weekday(a.day)}"
        if a.direction == "spike":
            ratio = a.ratio
            times = f"{explain.ratio(ratio)} " if ratio is not None else ""
            title = f"Sales spike on {explain.day(a.day)}"
            message = (
                f"Sales on {explain.day(a.day)} were {explain.amount(a.observed, ctx)}, "
                f"{times}{usual} of {explain.amount(a.expected, ctx)} "
                f"({a.invoices} invoices against a usual {a.usual_invoices:g})."
            )
            severity = "info"
        else:
            title = f"No sales on {explain.day(a.day)}"
            message = (
                f"There were no sales at all on {explain.day(a.day)}, not even an order; "
                f"{usual} brings {explain.amount(a.expected, ctx)} ({a.usual_invoices:g} "
                "invoices), and such days have been rare over the 12 weeks before."
            )
            severity = "warning"
        return Finding(
            type=TYPE,
            severity=severity,
            title=title,
            message=message,
            module="sales",
            permission=PERMISSION,
            condition_key=f"{TYPE}:company:{a.day.isoformat()}",
            on_date=a.day,
            expected=a.expected,
            observed=a.observed,
            details={
                "scope": "company",
                "direction": a.direction,
                "ratio": round(a.ratio, 2) if a.ratio is not None else None,
                "invoices": a.invoices,
                "usual_invoices": a.usual_invoices,
                "z": a.z,
                "value_z": a.value_z,
                "baseline": "median of the same weekday over the previous 8 weeks",
            },
        )

    def _parties(
        self,
        scan: ScanInput,
        read_from: dt.date,
        first: dt.date,
        last: dt.date,
        company_days: set[dt.date],
        params: Params,
    ) -> list[Finding]:
        """Unusually large days of the largest customers and items (not on a company anomaly)."""
        findings: list[Finding] = []
        watch_from = first - dt.timedelta(weeks=params.weeks)
        watched: tuple[tuple[By, int], ...] = (
            ("customer", scan.settings.major_customers),
            ("item", scan.settings.major_items),
        )
        for by, limit in watched:
            if limit <= 0:
                continue
            top = sales.top_sellers(scan.session, scan.ctx, watch_from, last, by=by, limit=limit)
            if not top:
                continue
            per_key: dict[int, dict[dt.date, Decimal]] = {k: {} for k in top}
            for row in sales.daily_sales(scan.session, scan.ctx, read_from, last, by=by):
                if row.key in per_key:
                    per_key[row.key][row.day] = row.net
            names = self._names(scan, by, top)
            for key, series in per_key.items():
                for a in find_bursts(series, first=first, last=last, params=params):
                    if a.day not in company_days:
                        findings.append(self._party(scan, by, key, names.get(key, str(key)), a))
        return findings

    @staticmethod
    def _names(scan: ScanInput, by: str, ids: list[int]) -> dict[int, str]:
        if by == "item":
            items = items_repo.items_by_ids(scan.session, scan.ctx, ids)
            return {i: f"{item.name} ({item.sku})" for i, item in items.items()}
        return {i: parties_repo.get_customer(scan.session, scan.ctx, i).name for i in ids}

    @staticmethod
    def _party(scan: ScanInput, by: str, key: int, name: str, a: Anomaly) -> Finding:
        ctx = scan.ctx
        ratio = a.ratio or 0.0
        what = "Sales to" if by == "customer" else "Sales of"
        return Finding(
            type=TYPE,
            severity="info",
            title=f"{what} {name} jumped on {explain.day(a.day)}",
            message=(
                f"{what} {name} on {explain.day(a.day)} were {explain.amount(a.observed, ctx)}, "
                f"{explain.ratio(ratio)} their usual day of {explain.amount(a.expected, ctx)}."
            ),
            module="sales",
            permission=PERMISSION,
            condition_key=f"{TYPE}:{by}:{key}:{a.day.isoformat()}",
            on_date=a.day,
            expected=a.expected,
            observed=a.observed,
            record_ref=None,
            details={
                "scope": by,
                f"{by}_id": key,
                "name": name,
                "direction": a.direction,
                "ratio": round(ratio, 2),
                "value_z": a.value_z,
                "baseline": "median of the days with sales over the previous 8 weeks",
            },
        )


register_detector(SalesAnomalies())
