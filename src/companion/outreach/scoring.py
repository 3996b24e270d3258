"""Collection-priority scores: fixed rules over a customer's ledger facts, no framework, no DB.

A score is the sum of six factors' points (weights add up to 100), rounded to a whole number:

==========================  ======  =========================================================
factor                      weight  points
==========================  ======  =========================================================
oldest_days_overdue         15      weight x min(days, 120) / 120
weighted_days_overdue       20      weight x min(days, 90) / 90 (days weighted by open amount)
overdue_amount              30      weight x overdue / the largest overdue of any customer
late_payment_share          10      weight x share of invoices paid late (last 12 months)
average_days_late           10      weight x min(days, 60) / 60 (of the invoices paid late)
credit_limit_use            15      weight x min(outstanding / credit limit, 1)
==========================  ======  =========================================================

Choices:
- Overdue amount is relative to the company's largest overdue customer, not absolute bands:
  companies keep books in currencies a hundredfold apart (BDT, USD), so fixed bands would
  need a table per currency; the ratio needs none. The biggest debtor gets full points.
- Payment history reads invoices settled in the 365 days up to today (settled = the last
  posted payment that made the invoice paid). With no such invoice the two history factors
  get half their weight: an unknown payer is neither good nor bad.
- No credit limit (zero) gives ``credit_limit_use`` no value and no points.
- Bands: high from 60, medium from 30, low below.

Everything is Decimal arithmetic in a fixed order: the same facts give the same score.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import partial
from typing import Literal

from companion.kit.money import format_money

ZERO = Decimal(0)
ONE = Decimal(1)
HISTORY_DAYS = 365
HIGH_FROM = 60
MEDIUM_FROM = 30

WEIGHTS: dict[str, int] = {
    "oldest_days_overdue": 15,
    "weighted_days_overdue": 20,
    "overdue_amount": 30,
    "late_payment_share": 10,
    "average_days_late": 10,
    "credit_limit_use": 15,
}
# Where a factor reaches its full weight.
OLDEST_DAYS_CAP = 120
WEIGHTED_DAYS_CAP = 90
DAYS_LATE_CAP = 60

Money = Callable[[Decimal], str]
Unit = Literal["days", "amount", "percent"]
Band = Literal["high", "medium", "low"]


@dataclass(frozen=True)
class OpenItem:
    """An open invoice: its number, dates and what is still to be paid."""

    number: str
    issue_date: dt.date
    due_date: dt.date
    open_amount: Decimal
    currency: str


@dataclass(frozen=True)
class SettledItem:
    """An invoice paid in full: when it was due and when the last payment came."""

    number: str
    due_date: dt.date
    settled_on: dt.date


@dataclass(frozen=True)
class CustomerFacts:
    """What the ledger says about one customer, as scoring needs it."""

    customer_id: int
    name: str
    currency: str
    credit_limit: Decimal
    open_items: Sequence[OpenItem] = ()
    settled_items: Sequence[SettledItem] = ()


@dataclass(frozen=True)
class Factor:
    """One factor: its value (None when it has none), weight and points."""

    name: str
    label: str
    value: Decimal | None
    unit: Unit
    weight: int
    points: Decimal
    detail: str


@dataclass(frozen=True)
class Score:
    """A customer's collection score, its factors and a template rationale."""

    customer_id: int
    customer_name: str
    currency: str
    total: int
    band: Band
    factors: list[Factor]
    rationale: str
    overdue_amount: Decimal
    overdue_count: int
    outstanding: Decimal


def overdue_items(items: Sequence[OpenItem], today: dt.date) -> list[OpenItem]:
    """The open items past their due date at ``today``, oldest due first."""
    late = [i for i in items if i.due_date < today and i.open_amount > 0]
    return sorted(late, key=lambda i: (i.due_date, i.number))


def overdue_total(items: Sequence[OpenItem], today: dt.date) -> Decimal:
    """The open amount past due at ``today``."""
    return sum((i.open_amount for i in overdue_items(items, today)), ZERO)


def band_of(total: int) -> Band:
    """``high``, ``medium`` or ``low`` for a 0-100 score."""
    if total >= HIGH_FROM:
        return "high"
    if total >= MEDIUM_FROM:
        return "medium"
    return "low"


def _round(value: Decimal, places: int = 1) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def _scaled(weight: int, value: Decimal, cap: Decimal) -> Decimal:
    """``weight`` x min(value, cap) / cap, to one decimal."""
    if cap <= 0:
        return ZERO
    return _round(Decimal(weight) * min(max(value, ZERO), cap) / cap)


def _days(n: Decimal | int) -> str:
    return "1 day" if n == 1 else f"{n} days"


def _pct(value: Decimal) -> Decimal:
    return _round(value * 100)


def score_customer(
    facts: CustomerFacts, today: dt.date, *, largest_overdue: Decimal, locale: str = "en"
) -> Score:
    """The collection score of ``facts`` at ``today``; ``largest_overdue`` of any customer."""
    late = overdue_items(facts.open_items, today)
    overdue = sum((i.open_amount for i in late), ZERO)
    outstanding = sum((i.open_amount for i in facts.open_items if i.open_amount > 0), ZERO)
    oldest = max(((today - i.due_date).days for i in late), default=0)
    day_amounts = sum((Decimal((today - i.due_date).days) * i.open_amount for i in late), ZERO)
    weighted = _round(day_amounts / overdue, 0) if overdue > 0 else ZERO
    money: Money = partial(_money, currency=facts.currency, locale=locale)
    factors = [
        Factor(
            "oldest_days_overdue",
            "Oldest invoice overdue",
            Decimal(oldest),
            "days",
            WEIGHTS["oldest_days_overdue"],
            _scaled(WEIGHTS["oldest_days_overdue"], Decimal(oldest), Decimal(OLDEST_DAYS_CAP)),
            f"oldest open invoice {_days(oldest)} past due" if late else "nothing overdue",
        ),
        Factor(
            "weighted_days_overdue",
            "Days overdue, weighted by amount",
            weighted,
            "days",
            WEIGHTS["weighted_days_overdue"],
            _scaled(WEIGHTS["weighted_days_overdue"], weighted, Decimal(WEIGHTED_DAYS_CAP)),
            f"{_days(weighted)} past due on average, weighted by amount"
            if late
            else "nothing overdue",
        ),
        _amount_factor(overdue, largest_overdue, len(late), money),
        *_history_factors(facts.settled_items, today),
        _credit_factor(outstanding, facts.credit_limit, money),
    ]
    total = int(_round(sum((f.points for f in factors), ZERO), 0))
    total = min(max(total, 0), 100)
    band = band_of(total)
    rationale = (
        f"{facts.name} scores {total}/100 ({band} priority): "
        + "; ".join(f.detail for f in factors)
        + "."
    )
    return Score(
        customer_id=facts.customer_id,
        customer_name=facts.name,
        currency=facts.currency,
        total=total,
        band=band,
        factors=factors,
        rationale=rationale,
        overdue_amount=overdue,
        overdue_count=len(late),
        outstanding=outstanding,
    )


def _money(amount: Decimal, *, currency: str, locale: str) -> str:
    return format_money(amount, currency, locale)


def _amount_factor(overdue: Decimal, largest: Decimal, count: int, money: Money) -> Factor:
    weight = WEIGHTS["overdue_amount"]
    share = overdue / largest if largest > 0 else ZERO
    points = _scaled(weight, share, ONE)
    if overdue <= 0:
        detail = "nothing overdue"
    else:
        invoices = "1 invoice" if count == 1 else f"{count} invoices"
        detail = (
            f"{money(overdue)} overdue on {invoices}, "
            f"{_pct(min(share, ONE))}% of the largest overdue balance of any customer"
        )
    return Factor("overdue_amount", "Overdue amount", overdue, "amount", weight, points, detail)


def _history_factors(settled: Sequence[SettledItem], today: dt.date) -> list[Factor]:
    since = today - dt.timedelta(days=HISTORY_DAYS)
    recent = [s for s in settled if since < s.settled_on <= today]
    share_weight = WEIGHTS["late_payment_share"]
    days_weight = WEIGHTS["average_days_late"]
    if not recent:
        detail = "no invoice paid in the last 12 months"
        half = _round(Decimal(share_weight) / 2), _round(Decimal(days_weight) / 2)
        return [
            Factor(
                "late_payment_share",
                "Invoices paid late",
                None,
                "percent",
                share_weight,
                half[0],
                detail,
            ),
            Factor(
                "average_days_late", "Average days late", None, "days", days_weight, half[1], detail
            ),
        ]
    late_days = [(s.settled_on - s.due_date).days for s in recent if s.settled_on > s.due_date]
    share = Decimal(len(late_days)) / Decimal(len(recent))
    average = _round(Decimal(sum(late_days)) / Decimal(len(late_days))) if late_days else ZERO
    paid = f"{len(late_days)} of {len(recent)} invoices paid in the last 12 months were late"
    return [
        Factor(
            "late_payment_share",
            "Invoices paid late",
            _pct(share),
            "percent",
            share_weight,
            _scaled(share_weight, share, ONE),
            paid,
        ),
        Factor(
            "average_days_late",
            "Average days late",
            average,
            "days",
            days_weight,
            _scaled(days_weight, average, Decimal(DAYS_LATE_CAP)),
            f"paid {_days(average)} late on average" if late_days else "none paid late",
        ),
    ]


def _credit_factor(outstanding: Decimal, limit: Decimal, money: Money) -> Factor:
    weight = WEIGHTS["credit_limit_use"]
    if limit <= 0:
        return Factor(
            "credit_limit_use",
            "Credit limit use",
            None,
            "percent",
            weight,
            ZERO,
            "no credit limit set",
        )
    use = outstanding / limit
    return Factor(
        "credit_limit_use",
        "Credit limit use",
        _pct(use),
        "percent",
        weight,
        _scaled(weight, use, ONE),
        f"{money(outstanding)} outstanding is {_pct(use)}% of the {money(limit)} credit limit",
    )


def rank(scores: Sequence[Score]) -> list[Score]:
    """Highest score first; ties by overdue amount, then name and id (a stable order)."""
    return sorted(
        scores, key=lambda s: (-s.total, -s.overdue_amount, s.customer_name, s.customer_id)
    )
