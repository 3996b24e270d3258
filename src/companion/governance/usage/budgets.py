"""Budgets: the caps that apply to a call, reserving its worst case, and the quota report."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from companion.config import BudgetCaps, UsageSettings
from companion.errors import RateLimited
from companion.governance.usage import pricing
from companion.governance.usage.counters import Charge, CounterKey, CounterStore
from companion.governance.usage.periods import DAY, MONTH, Period, period, zone

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

TOKENS, COST = "tokens", "cost"
# Counters outlive their period a little in Redis (a late settlement still finds them).
_TTL_MARGIN_S = 2 * 24 * 3600


@dataclass(frozen=True)
class Scope:
    """A budget scope: whose spending, over which period."""

    name: str  # user_day, company_day, company_month
    period: str  # day | month
    per_user: bool


SCOPES = (
    Scope("user_day", DAY, True),
    Scope("company_day", DAY, False),
    Scope("company_month", MONTH, False),
)


class BudgetExceeded(RateLimited):
    """A hard cap is reached: the message names it and when it resets."""

    code = "budget_exceeded"


@dataclass(frozen=True)
class Payer:
    """Who a model call is charged to: company, user, and the company's time zone."""

    company_id: int
    company_slug: str
    user_id: int | None
    timezone: str | None = None


@dataclass
class Reservation:
    """What was reserved for one call, to be settled when it is done."""

    charges: list[Charge]
    tokens: int
    cost_micros: int


@dataclass(frozen=True)
class QuotaLine:
    """One limit: what is used of it, and when it resets."""

    limit: str  # e.g. company_month_cost
    scope: str
    metric: str
    used: float
    cap: float | None
    ratio: float | None
    resets_at: dt.datetime
    warning: bool  # at or past the soft ratio
    exceeded: bool  # at or past the hard cap

    def as_dict(self) -> dict[str, Any]:
        return {
            "limit": self.limit,
            "scope": self.scope,
            "metric": self.metric,
            "used": self.used,
            "cap": self.cap,
            "ratio": self.ratio,
            "resets_at": self.resets_at.isoformat(),
            "warning": self.warning,
            "exceeded": self.exceeded,
        }


@dataclass
class _Plan:
    periods: dict[str, Period] = field(default_factory=dict)
    keys: list[tuple[Scope, str, CounterKey, int | None]] = field(default_factory=list)


def _cap(caps: BudgetCaps, scope: Scope, metric: str) -> int | None:
    """The cap of ``scope`` in counter units (tokens, or millionths of the currency)."""
    value = getattr(caps, f"{scope.name}_{metric}")
    if value is None:
        return None
    return int(value) if metric == TOKENS else pricing.to_micros(Decimal(value))


class Budgets:
    """Reserves and settles model calls on the counters, and reports the quota."""

    def __init__(self, settings: UsageSettings, store: CounterStore) -> None:
        self.settings = settings
        self.store = store

    def caps(self, payer: Payer) -> BudgetCaps:
        return self.settings.caps_for(payer.company_slug)

    def _plan(self, payer: Payer, now: dt.datetime) -> _Plan:
        tz = zone(payer.timezone, self.settings.default_timezone)
        caps = self.caps(payer)
        plan = _Plan()
        for scope in SCOPES:
            if scope.per_user and payer.user_id is None:
                continue
            current = plan.periods.setdefault(scope.period, period(scope.period, now, tz))
            for metric in (TOKENS, COST):
                key = CounterKey(
                    company_id=payer.company_id,
                    scope=scope.name,
                    subject=(payer.user_id or 0) if scope.per_user else 0,
                    period=current.key,
                    metric=metric,
                )
                plan.keys.append((scope, metric, key, _cap(caps, scope, metric)))
        return plan

    def reserve(
        self,
        payer: Payer,
        now: dt.datetime,
        *,
        tokens: int,
        cost: Decimal,
        capped: bool = True,
        session: Session | None = None,
    ) -> Reservation:
        """Reserve ``tokens`` and ``cost`` on every counter, or raise ``BudgetExceeded``.

        ``capped=False`` counts without checking caps (a free model under the "local"
        policy).
        """
        plan = self._plan(payer, now)
        micros = pricing.to_micros(cost)
        charges = []
        for scope, metric, key, cap in plan.keys:
            ttl = int((plan.periods[scope.period].resets_at - now).total_seconds())
            charges.append(
                Charge(
                    key=key,
                    amount=tokens if metric == TOKENS else micros,
                    cap=cap if capped else None,
                    ttl_s=ttl + _TTL_MARGIN_S,
                )
            )
        refused = self.store.reserve(charges, session)
        if refused is not None:
            scope = next(s for s in SCOPES if s.name == refused.key.scope)
            raise self._exceeded(scope, refused.key.metric, plan.periods[scope.period], now)
        return Reservation(charges=charges, tokens=tokens, cost_micros=micros)

    def settle(
        self,
        reservation: Reservation,
        *,
        tokens: int,
        cost: Decimal,
        session: Session | None = None,
    ) -> None:
        """Give back what the call reserved and did not use.

        A remote server may count the prompt's tokens a little differently from the estimate
        reserved: what it used beyond the reservation is added (uncapped), so the counters
        hold what was really spent.
        """
        micros = pricing.to_micros(cost)

        def charges(token_amount: int, micro_amount: int) -> list[Charge]:
            return [
                Charge(
                    key=c.key,
                    amount=token_amount if c.key.metric == TOKENS else micro_amount,
                    cap=None,
                    ttl_s=c.ttl_s,
                )
                for c in reservation.charges
            ]

        self.store.release(
            charges(max(0, reservation.tokens - tokens), max(0, reservation.cost_micros - micros)),
            session,
        )
        over_tokens = max(0, tokens - reservation.tokens)
        over_micros = max(0, micros - reservation.cost_micros)
        if over_tokens or over_micros:
            self.store.reserve(charges(over_tokens, over_micros), session)

    def quota(
        self, payer: Payer, now: dt.datetime, session: Session | None = None
    ) -> list[QuotaLine]:
        """Every scope's use against its caps, with its soft-cap warning and reset time."""
        plan = self._plan(payer, now)
        values = self.store.read([key for _, _, key, _ in plan.keys], session)
        lines = []
        for scope, metric, key, cap in plan.keys:
            used = values.get(key, 0)
            ratio = (used / cap if cap else (1.0 if used else 0.0)) if cap is not None else None
            lines.append(
                QuotaLine(
                    limit=f"{scope.name}_{metric}",
                    scope=scope.name,
                    metric=metric,
                    used=_shown(metric, used),
                    cap=None if cap is None else _shown(metric, cap),
                    ratio=None if ratio is None else round(ratio, 4),
                    resets_at=plan.periods[scope.period].resets_at,
                    warning=ratio is not None and ratio >= self.settings.soft_ratio,
                    exceeded=cap is not None and used >= cap,
                )
            )
        return lines

    def check(self, payer: Payer, now: dt.datetime, session: Session | None = None) -> None:
        """Raise ``BudgetExceeded`` when a hard cap is already reached (before a turn)."""
        for line in self.quota(payer, now, session):
            if line.exceeded:
                scope = next(s for s in SCOPES if s.name == line.scope)
                current = period(
                    scope.period, now, zone(payer.timezone, self.settings.default_timezone)
                )
                raise self._exceeded(scope, line.metric, current, now)

    def _exceeded(
        self, scope: Scope, metric: str, current: Period, now: dt.datetime
    ) -> BudgetExceeded:
        retry_after = max(1, int((current.resets_at - now).total_seconds()) + 1)
        who = "your" if scope.per_user else "the company's"
        span = "daily" if scope.period == DAY else "monthly"
        what = "token" if metric == TOKENS else "spending"
        return BudgetExceeded(
            f"This would pass {who} {span} {what} limit ({scope.name}_{metric}); it resets at "
            f"{current.resets_at.isoformat()}",
            details={
                "limit": f"{scope.name}_{metric}",
                "scope": scope.name,
                "metric": metric,
                "period": current.key,
                "resets_at": current.resets_at.isoformat(),
                "retry_after": retry_after,
            },
        )


def _shown(metric: str, value: int) -> float:
    """A counter value as people read it: tokens, or the currency amount."""
    return float(value) if metric == TOKENS else float(pricing.from_micros(value))
