"""Usage in the chat core: a turn rate-limited, budget-checked and metered.

``UsageMeter`` is the language-model port's meter (``llm.metering.CallMeter``), served by
governance's budgets and usage records: before each model call it reserves the call's worst
case on every budget counter (refusing it past a hard cap or the turn's token allowance),
after it settles the real figures and records the call. Inside a chat turn the calls are
charged to the caller, and written in the turn's own session once it writes; while the turn
only reads (``kit.db.begin_reading``: a model answering a question) in short transactions
of their own, kept even if the turn later fails, since the model ran. Outside a turn (a
draft, the command center) to the company named in the call, in a session of their own.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from companion.assistant.schemas import ChatResponse, Usage
from companion.governance.usage.budgets import BudgetExceeded, Payer
from companion.governance.usage.models import TURN
from companion.governance.usage.ratelimit import RateLimiter
from companion.governance.usage.service import CallFigures, Metering, Ticket
from companion.kit.clock import Clock
from companion.kit.db import is_reading
from companion.llm.metering import LLMBudgetExceeded, PlannedCall
from companion.llm.providers.base import Generation
from companion.tenancy.context import RequestContext

CHAT_USE_CASE = "chat"


@dataclass
class TurnUsage:
    """The model calls of one chat turn so far."""

    session: Session
    ctx: RequestContext
    payer: Payer
    request_tokens: int | None
    calls: list[tuple[CallFigures, Decimal]] = field(default_factory=list)
    reserved_tokens: int = 0
    refused: list[dict[str, Any]] = field(default_factory=list)


def _writer(state: TurnUsage | None) -> Session | None:
    """The session a call's counters and record go in: the turn's, unless it only reads."""
    if state is None or is_reading(state.session):
        return None
    return state.session


_turn: ContextVar[TurnUsage | None] = ContextVar("companion_usage_turn", default=None)


@dataclass
class _Admitted:
    ticket: Ticket
    turn: TurnUsage | None
    reserved_tokens: int


class UsageMeter:
    """Rate limits and budgets in front of a chat turn; the meter behind every model call."""

    def __init__(self, metering: Metering, clock: Clock, limiter: RateLimiter | None) -> None:
        self.metering = metering
        self.clock = clock
        self.limiter = limiter

    # --- the chat turn -------------------------------------------------------------------

    def _refuses(self, payer: Payer) -> bool:
        caps = self.metering.budgets.caps(payer)
        return caps.on_hard_cap == "refuse" and self.metering.has_caps(payer)

    def check(self, session: Session, ctx: RequestContext) -> None:
        """Refuse a turn (429) that its rate limit or a reached hard cap would refuse."""
        if self.limiter is not None:
            self.limiter.chat_turn(ctx.user_id, count=False)
        payer = self.metering.payer(session, ctx)
        if self._refuses(payer):
            self.metering.budgets.check(payer, self.clock.now(), session)

    @contextmanager
    def turn(self, session: Session, ctx: RequestContext) -> Iterator[TurnUsage]:
        """Count the turn against the caller's rate, refuse it past a hard cap, meter it."""
        if self.limiter is not None:
            self.limiter.chat_turn(ctx.user_id)
        payer = self.metering.payer(session, ctx)
        if self._refuses(payer):
            self.metering.budgets.check(payer, self.clock.now(), session)
        state = TurnUsage(
            session=session,
            ctx=ctx,
            payer=payer,
            request_tokens=self.metering.budgets.caps(payer).request_tokens,
        )
        token = _turn.set(state)
        try:
            yield state
        finally:
            _turn.reset(token)

    def finish(self, state: TurnUsage, response: ChatResponse) -> ChatResponse:
        """Record the turn and put its figures and any soft-cap warning in ``usage``."""
        now = self.clock.now()
        tokens_in = sum(f.tokens_in for f, _ in state.calls)
        tokens_out = sum(f.tokens_out for f, _ in state.calls)
        cost = sum((c for _, c in state.calls), Decimal(0))
        latency = response.usage.latency_ms if response.usage else 0.0
        figures = CallFigures(CHAT_USE_CASE, "", None, tokens_in, tokens_out, latency)
        self.metering.record(
            state.payer, figures, cost, now, state.session, response.conversation_id, kind=TURN
        )
        warnings: list[dict[str, Any]] = []
        if self.metering.has_caps(state.payer):
            lines = self.metering.budgets.quota(state.payer, now, state.session)
            warnings = [line.as_dict() for line in lines if line.warning]
        response.usage = Usage(
            latency_ms=latency,
            llm=response.usage.llm if response.usage else None,
            model_calls=len(state.calls),
            cached_calls=sum(1 for f, _ in state.calls if f.cached),
            tokens_in=tokens_in,
            tokens_out=tokens_out,
            cost=float(cost),
            currency=self.metering.settings.currency,
            warnings=warnings or None,
            refused=state.refused or None,
        )
        return response

    # --- the llm port --------------------------------------------------------------------

    def _payer(self, call: PlannedCall) -> tuple[Payer, TurnUsage | None] | None:
        state = _turn.get()
        if state is not None:
            return state.payer, state
        user = int(call.caller) if call.caller and call.caller.isdigit() else None
        if isinstance(call.company, int):
            payer = self.metering.payer_by_id(call.company, user)
        else:
            payer = self.metering.payer_by_slug(call.company, user)
        return (payer, None) if payer is not None else None

    def admit(self, call: PlannedCall) -> object:
        """Reserve the call's worst case, or raise ``LLMBudgetExceeded``."""
        found = self._payer(call)
        if found is None:
            return None  # no such company: nothing to charge
        payer, state = found
        worst = call.tokens_in + call.max_tokens
        if state is not None and state.request_tokens is not None:
            if state.reserved_tokens + worst > state.request_tokens:
                details = {
                    "limit": "request_tokens",
                    "cap": state.request_tokens,
                    "needed": state.reserved_tokens + worst,
                }
                state.refused.append(details)
                raise LLMBudgetExceeded(
                    f"This request may use at most {state.request_tokens} tokens of model time",
                    details=details,
                )
        try:
            ticket = self.metering.reserve(
                payer,
                self.clock.now(),
                use_case=call.use_case,
                provider=call.provider,
                model=call.model,
                tokens_in=call.tokens_in,
                max_tokens=call.max_tokens,
                session=_writer(state),
            )
        except BudgetExceeded as exc:
            if state is not None:
                state.refused.append(exc.details)
            raise LLMBudgetExceeded(exc.message, details=exc.details) from exc
        if state is not None:
            state.reserved_tokens += worst
        return _Admitted(ticket, state, worst)

    def settle(self, ticket: object, generation: Generation | None) -> None:
        """Settle an admitted call with what it used, and record it."""
        if not isinstance(ticket, _Admitted):
            return
        figures = None
        if generation is not None:
            figures = CallFigures(
                use_case=ticket.ticket.use_case,
                provider=generation.provider,
                model=generation.model,
                tokens_in=generation.tokens_in,
                tokens_out=generation.tokens_out,
                latency_ms=generation.latency_ms,
            )
        cost = self.metering.settle(ticket.ticket, figures, self.clock.now())
        state = ticket.turn
        if state is not None:
            used = 0 if figures is None else figures.tokens_in + figures.tokens_out
            state.reserved_tokens -= max(0, ticket.reserved_tokens - used)
            if figures is not None:
                state.calls.append((figures, cost))

    def cached(self, call: PlannedCall, generation: Generation) -> None:
        """Record a cache hit: no model ran, so it costs and reserves nothing."""
        found = self._payer(call)
        if found is None:
            return
        payer, state = found
        figures = CallFigures(
            use_case=call.use_case,
            provider=generation.provider,
            model=generation.model,
            tokens_in=generation.tokens_in,
            tokens_out=generation.tokens_out,
            latency_ms=0.0,
            cached=True,
        )
        self.metering.record(payer, figures, Decimal(0), self.clock.now(), _writer(state))
        if state is not None:
            state.calls.append((figures, Decimal(0)))
