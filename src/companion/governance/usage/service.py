"""Metering: charge model calls to budgets, record them and chat turns, report usage.

Knows nothing of models or HTTP: the assistant's adapter (``assistant.usage``) turns the
language-model port's calls into these, and the endpoints read the reports.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from companion.config import UsageSettings
from companion.errors import ValidationFailed
from companion.governance.usage import pricing
from companion.governance.usage import repository as repo
from companion.governance.usage.budgets import Budgets, Payer, QuotaLine, Reservation
from companion.governance.usage.models import MODEL_CALL, UsageEvent
from companion.governance.usage.periods import local_date, zone
from companion.kit.db import session_scope
from companion.tenancy.context import RequestContext

MAX_RANGE_DAYS = 366


@dataclass(frozen=True)
class CallFigures:
    """What one model call used."""

    use_case: str
    provider: str
    model: str | None
    tokens_in: int
    tokens_out: int
    latency_ms: float
    cached: bool = False


@dataclass
class Ticket:
    """An admitted call: who pays, what was reserved, and the call's price."""

    payer: Payer
    reservation: Reservation
    provider: str
    model: str | None
    use_case: str
    session: Session | None


class Metering:
    """Budgets and usage records of one deployment (one per process)."""

    def __init__(
        self, settings: UsageSettings, budgets: Budgets, session_factory: sessionmaker[Session]
    ) -> None:
        self.settings = settings
        self.budgets = budgets
        self._factory = session_factory
        self._zones: dict[int, str | None] = {}
        self._lock = threading.Lock()

    # --- who pays ------------------------------------------------------------------------

    def payer(self, session: Session, ctx: RequestContext) -> Payer:
        """The caller of ``ctx`` as a payer, with the company's time zone."""
        with self._lock:
            known = ctx.company_id in self._zones
            tz = self._zones.get(ctx.company_id)
        if not known:
            tz = repo.company_timezone(session, ctx.company_id)
            with self._lock:
                self._zones[ctx.company_id] = tz
        return Payer(ctx.company_id, ctx.company_slug, ctx.user_id, tz)

    def payer_by_slug(self, slug: str, user_id: int | None) -> Payer | None:
        """A payer for a model call made outside a chat turn (the company named by slug)."""
        with self._factory() as session:
            found = repo.company_by_slug(session, slug)
        if found is None:
            return None
        return Payer(found[0], slug, user_id, found[1])

    def payer_by_id(self, company_id: int, user_id: int | None) -> Payer | None:
        """A payer for a model call made outside a chat turn (the company named by id)."""
        with self._factory() as session:
            found = repo.company_by_id(session, company_id)
        if found is None:
            return None
        return Payer(company_id, found[0], user_id, found[1])

    def forget_zones(self) -> None:
        """Read the companies' time zones again (after one was changed)."""
        with self._lock:
            self._zones.clear()

    # --- calls ---------------------------------------------------------------------------

    def is_free(self, provider: str, model: str | None) -> bool:
        return pricing.is_free(pricing.price_of(self.settings.prices, provider, model))

    def cost(self, provider: str, model: str | None, tokens_in: int, tokens_out: int) -> Decimal:
        price = pricing.price_of(self.settings.prices, provider, model)
        return pricing.cost_of(price, tokens_in, tokens_out)

    def reserve(
        self,
        payer: Payer,
        now: dt.datetime,
        *,
        use_case: str,
        provider: str,
        model: str | None,
        tokens_in: int,
        max_tokens: int,
        session: Session | None,
    ) -> Ticket:
        """Reserve a call's worst case (its prompt and every token it may write).

        Raises ``BudgetExceeded``; under the "local" policy a free model is counted but
        never refused.
        """
        capped = not (
            self.budgets.caps(payer).on_hard_cap == "local" and self.is_free(provider, model)
        )
        reservation = self.budgets.reserve(
            payer,
            now,
            tokens=tokens_in + max_tokens,
            cost=self.cost(provider, model, tokens_in, max_tokens),
            capped=capped,
            session=session,
        )
        return Ticket(payer, reservation, provider, model, use_case, session)

    def settle(
        self,
        ticket: Ticket,
        figures: CallFigures | None,
        now: dt.datetime,
        conversation_id: str | None = None,
    ) -> Decimal:
        """Give back the unused part of a reservation and record the call; its cost."""
        if figures is None:
            self.budgets.settle(
                ticket.reservation, tokens=0, cost=Decimal(0), session=ticket.session
            )
            return Decimal(0)
        cost = self.cost(figures.provider, figures.model, figures.tokens_in, figures.tokens_out)
        self.budgets.settle(
            ticket.reservation,
            tokens=figures.tokens_in + figures.tokens_out,
            cost=cost,
            session=ticket.session,
        )
        self.record(ticket.payer, figures, cost, now, ticket.session, conversation_id)
        return cost

    def record(
        self,
        payer: Payer,
        figures: CallFigures,
        cost: Decimal,
        now: dt.datetime,
        session: Session | None,
        conversation_id: str | None = None,
        kind: str = MODEL_CALL,
    ) -> None:
        """Store one usage event, in ``session`` or (outside a request) in its own."""
        event = UsageEvent(
            company_id=payer.company_id,
            user_id=payer.user_id,
            kind=kind,
            use_case=figures.use_case,
            provider=figures.provider,
            model=figures.model,
            tokens_in=figures.tokens_in,
            tokens_out=figures.tokens_out,
            latency_ms=round(figures.latency_ms, 2),
            cached=figures.cached,
            cost=cost,
            currency=self.settings.currency,
            conversation_id=conversation_id,
            day=local_date(now, zone(payer.timezone, self.settings.default_timezone)),
            created_at=now,
        )
        if session is not None:
            repo.add_event(session, event)
            return
        with session_scope(self._factory) as own:
            repo.add_event(own, event)

    # --- reports -------------------------------------------------------------------------

    def has_caps(self, payer: Payer) -> bool:
        caps = self.budgets.caps(payer)
        return any(
            v is not None
            for k, v in caps.model_dump().items()
            if k not in ("on_hard_cap", "request_tokens")
        )

    def quota(self, session: Session, ctx: RequestContext, now: dt.datetime) -> list[QuotaLine]:
        """The caller's and the company's use of every budget."""
        return self.budgets.quota(self.payer(session, ctx), now, session)

    def date_range(
        self,
        session: Session,
        ctx: RequestContext,
        now: dt.datetime,
        start: dt.date | None,
        end: dt.date | None,
    ) -> tuple[dt.date, dt.date]:
        """The days asked for; by default the current month in the company's time zone."""
        today = local_date(
            now, zone(self.payer(session, ctx).timezone, self.settings.default_timezone)
        )
        end = end or today
        start = start or end.replace(day=1)
        if start > end:
            raise ValidationFailed(
                "'from' is after 'to'", details={"from": start.isoformat(), "to": end.isoformat()}
            )
        if (end - start).days > MAX_RANGE_DAYS:
            raise ValidationFailed(
                f"At most {MAX_RANGE_DAYS} days at a time",
                details={"from": start.isoformat(), "to": end.isoformat()},
            )
        return start, end

    def summary(
        self, session: Session, ctx: RequestContext, start: dt.date, end: dt.date
    ) -> dict[str, Any]:
        return {
            "from_day": start,
            "to_day": end,
            "currency": self.settings.currency,
            **repo.totals(session, ctx, start, end),
        }

    def breakdown(
        self, session: Session, ctx: RequestContext, by: str, start: dt.date, end: dt.date
    ) -> list[dict[str, Any]]:
        return repo.breakdown(session, ctx, by, start, end)

    def export_rows(
        self, session: Session, ctx: RequestContext, start: dt.date, end: dt.date
    ) -> Iterator[list[str]]:
        """The billing export: a header, then one row per event."""
        yield [
            "created_at", "day", "kind", "user", "use_case", "provider", "model",
            "tokens_in", "tokens_out", "cached", "latency_ms", "cost", "currency",
            "conversation_id",
        ]  # fmt: skip
        for event, username in repo.events(session, ctx, start, end):
            yield [
                event.created_at.isoformat(),
                event.day.isoformat(),
                event.kind,
                username or "",
                event.use_case,
                event.provider or "",
                event.model or "",
                str(event.tokens_in),
                str(event.tokens_out),
                "true" if event.cached else "false",
                f"{event.latency_ms:.2f}",
                f"{event.cost:.6f}",
                event.currency,
                event.conversation_id or "",
            ]
