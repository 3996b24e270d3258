"""Money: overdue receivables crossing thresholds, bills due against cash, cash runway.

All ``finance.read`` (a storekeeper never sees them). The runway is a forecast, and says so.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from companion.alerts import explain
from companion.alerts.detectors.base import Finding, ScanInput, register_detector
from companion.erp.invoicing import dues_repository as dues
from companion.erp.invoicing.models import InvoiceKind
from companion.erp.ledger import repository as ledger_repo
from companion.kit.money import ZERO, money

FINANCE = "finance.read"
PACE_DAYS = 90  # average daily sales and costs over this many days
HORIZON_DAYS = 365


def cash_now(scan: ScanInput) -> Decimal:
    """Every bank account's balance as of today, summed."""
    balances = ledger_repo.bank_balances(scan.session, scan.ctx, as_of=scan.today)
    return sum((b.balance for b in balances), ZERO)


class OverdueReceivables:
    name = "overdue_receivables"
    types: tuple[str, ...] = ("overdue_receivables",)
    state = True

    def detect(self, scan: ScanInput) -> list[Finding]:
        """A customer whose overdue balance crossed a threshold (the highest one crossed)."""
        table = scan.settings.overdue_thresholds
        thresholds = sorted(table.get(scan.ctx.currency, table.get("*", [])))
        if not thresholds:
            return []
        ctx, findings = scan.ctx, []
        for due in dues.overdue_by_customer(scan.session, ctx, scan.today):
            crossed = [t for t in thresholds if due.amount >= t]
            if not crossed:
                continue
            level = crossed[-1]
            days = (scan.today - due.oldest_due).days
            findings.append(
                Finding(
                    type="overdue_receivables",
                    severity="critical" if level == thresholds[-1] else "warning",
                    title=f"{due.name} owes {explain.amount(due.amount, ctx)} overdue",
                    message=(
                        f"{due.name} has {due.documents} overdue invoice"
                        f"{'s' if due.documents != 1 else ''} totalling "
                        f"{explain.amount(due.amount, ctx)}, past the "
                        f"{explain.amount(level, ctx)} mark; the oldest is {days} days late "
                        f"(due {explain.day(due.oldest_due)})."
                    ),
                    module="finance",
                    permission=FINANCE,
                    condition_key=f"overdue_receivables:{due.party_id}:{level}",
                    on_date=scan.today,
                    observed=money(due.amount),
                    expected=money(level),
                    details={
                        "customer_id": due.party_id,
                        "customer": due.name,
                        "invoices": due.documents,
                        "threshold": str(level),
                        "oldest_due": due.oldest_due.isoformat(),
                    },
                )
            )
        return findings


class PayablesDue:
    name = "payables_due"
    types: tuple[str, ...] = ("payables_due",)
    state = True

    def detect(self, scan: ScanInput) -> list[Finding]:
        """Bills due within ``payables_days`` (overdue ones included) against cash."""
        until = scan.today + dt.timedelta(days=scan.settings.payables_days)
        open_ap = dues.open_by_due_date(scan.session, scan.ctx, InvoiceKind.AP)
        due = sum((amount for day, amount in open_ap if day <= until), ZERO)
        if due <= 0:
            return []
        cash = cash_now(scan)
        if due <= cash / 2:
            return []
        short = due > cash
        ctx = scan.ctx
        share = f"{due / cash:.0%} of" if cash > 0 else "more than"
        return [
            Finding(
                type="payables_due",
                severity="critical" if short else "warning",
                title="Bills due this week exceed cash" if short else "Bills due this week",
                message=(
                    f"Bills of {explain.amount(due, ctx)} are due by {explain.day(until)}, "
                    f"{share} the {explain.amount(cash, ctx)} in the bank"
                    + (f": {explain.amount(due - cash, ctx)} short." if short else ".")
                ),
                module="finance",
                permission=FINANCE,
                condition_key=f"payables_due:{'short' if short else 'tight'}",
                on_date=scan.today,
                expected=money(cash),
                observed=money(due),
                details={"due_by": until.isoformat(), "cash": str(money(cash))},
            )
        ]


class CashRunway:
    name = "cash_runway"
    types: tuple[str, ...] = ("cash_runway",)
    state = True

    def detect(self, scan: ScanInput) -> list[Finding]:
        """A forecast: the first day cash would go below zero at the current pace."""
        session, ctx, today = scan.session, scan.ctx, scan.today
        cash = cash_now(scan)
        since = today - dt.timedelta(days=PACE_DAYS)
        daily_in = dues.issued_total(session, ctx, InvoiceKind.AR, since, today) / PACE_DAYS
        daily_out = dues.issued_total(session, ctx, InvoiceKind.AP, since, today) / PACE_DAYS
        ar = dues.open_by_due_date(session, ctx, InvoiceKind.AR)
        ap = dues.open_by_due_date(session, ctx, InvoiceKind.AP)
        runway = _runway(today, cash, ar, ap, daily_in - daily_out)
        if runway is None or runway >= scan.settings.runway_days:
            return []
        out_on = today + dt.timedelta(days=runway)
        return [
            Finding(
                type="cash_runway",
                severity="critical" if runway < 30 else "warning",
                title=f"Forecast: cash lasts about {runway} days",
                message=(
                    f"Forecast, not a ledger figure: at the current pace cash would run out "
                    f"around {explain.day(out_on)} ({runway} days). It starts from "
                    f"{explain.amount(cash, ctx)} in the bank, adds open receivables on their "
                    f"due dates ({explain.amount(sum((a for _, a in ar), ZERO), ctx)}), takes "
                    f"open bills on theirs ({explain.amount(sum((a for _, a in ap), ZERO), ctx)})"
                    f" and the last {PACE_DAYS} days' average of sales less purchases "
                    f"({explain.amount(daily_in - daily_out, ctx)} a day)."
                ),
                module="finance",
                permission=FINANCE,
                condition_key=f"cash_runway:under_{scan.settings.runway_days}",
                on_date=out_on,
                expected=None,
                observed=money(cash),
                details={
                    "forecast": True,
                    "runway_days": runway,
                    "cash": str(money(cash)),
                    "daily_sales": str(money(daily_in)),
                    "daily_costs": str(money(daily_out)),
                },
            )
        ]


def _runway(
    today: dt.date,
    cash: Decimal,
    ar: list[tuple[dt.date, Decimal]],
    ap: list[tuple[dt.date, Decimal]],
    daily_net: Decimal,
) -> int | None:
    """Days until the projected balance first goes below zero (None: not within a year).

    Open amounts already overdue count on day 0; new business adds ``daily_net`` a day.
    """
    flows: dict[int, Decimal] = {}
    for day, amount in ar:
        offset = max((day - today).days, 0)
        flows[offset] = flows.get(offset, ZERO) + amount
    for day, amount in ap:
        offset = max((day - today).days, 0)
        flows[offset] = flows.get(offset, ZERO) - amount
    balance = cash
    for offset in range(HORIZON_DAYS + 1):
        balance += flows.get(offset, ZERO) + (daily_net if offset > 0 else ZERO)
        if balance < 0:
            return offset
    return None


register_detector(OverdueReceivables())
register_detector(PayablesDue())
register_detector(CashRunway())
