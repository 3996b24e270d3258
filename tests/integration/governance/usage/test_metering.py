"""Model calls metered through the language-model port: reserved, settled, recorded, refused.

``LLMService`` with scripted providers (``FakeProvider``: the model is not what is tested
here, the budgets are) and the assistant's ``UsageMeter`` over the real database.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Connection, select
from sqlalchemy.orm import Session, sessionmaker

from companion.assistant.usage import UsageMeter
from companion.config import BudgetCaps, ModelPrice, UsageSettings
from companion.governance.usage.budgets import Budgets
from companion.governance.usage.counter_repository import SqlCounters
from companion.governance.usage.models import UsageEvent
from companion.governance.usage.service import Metering
from companion.kit.clock import FixedClock
from companion.llm import FakeProvider, LLMError, LLMService, PolicyBook, ProviderRegistry
from companion.llm.admission import acting_for
from companion.tenancy.context import RequestContext
from factories import make_company, make_context

NOW = dt.datetime(2026, 12, 6, 9, 0, tzinfo=dt.UTC)
PROMPT = [{"role": "user", "content": "one two three four five six seven eight"}]
POLICIES = """
providers:
  paid: {kind: none}
  free: {kind: none}
use_cases:
  summarize: {provider: paid, fallback: [free], max_tokens: 50, cache_ttl_s: 0}
  knowledge_answer: {enabled: true, provider: paid, max_tokens: 50, cache_ttl_s: 300}
"""
PRICES = {"paid": ModelPrice(input_per_1k=Decimal("1"), output_per_1k=Decimal("2"))}


def meter_for(
    connection: Connection, caps: BudgetCaps | None = None
) -> tuple[UsageMeter, UsageSettings]:
    settings = UsageSettings(prices=PRICES, budgets=caps or BudgetCaps())
    factory = sessionmaker(bind=connection, join_transaction_mode="create_savepoint")
    metering = Metering(settings, Budgets(settings, SqlCounters(factory)), factory)
    return UsageMeter(metering, FixedClock(NOW), limiter=None), settings


def llm_with(tmp_path: Path, meter: UsageMeter) -> tuple[LLMService, FakeProvider, FakeProvider]:
    paid = FakeProvider(["paid answer in five words"], name="paid", model="big")
    free = FakeProvider(["free answer"], name="free", model="small")
    path = tmp_path / "policies.yml"
    path.write_text(POLICIES)
    registry = ProviderRegistry({"paid": lambda: paid, "free": lambda: free})
    return LLMService(registry, PolicyBook.load(path), meter=meter), paid, free


@pytest.fixture
def ctx(session: Session) -> RequestContext:
    company = make_company(session, "meterco")
    company.timezone = "Asia/Dhaka"
    return make_context(session, company, ["finance"])


def events(session: Session, ctx: RequestContext) -> list[UsageEvent]:
    session.flush()
    stmt = select(UsageEvent).where(UsageEvent.user_id == ctx.user_id).order_by(UsageEvent.id)
    return list(session.scalars(stmt))


def test_a_call_in_a_turn_is_charged_recorded_and_settled(
    connection: Connection, session: Session, ctx: RequestContext, tmp_path: Path
) -> None:
    meter, _ = meter_for(connection, BudgetCaps(company_day_tokens=10_000))
    llm, paid, _ = llm_with(tmp_path, meter)
    with meter.turn(session, ctx) as turn:
        result = llm.generate("summarize", ctx.company_slug, PROMPT)
    assert result.provider == "paid" and paid.calls
    (call,) = turn.calls
    figures, cost = call
    # 8 words + 4 per message + 2 = 14 tokens in, 5 out: 14/1000 * 1 + 5/1000 * 2.
    assert (figures.tokens_in, figures.tokens_out) == (14, 5)
    assert cost == Decimal("0.024000")
    (event,) = events(session, ctx)
    assert (event.kind, event.use_case, event.provider, event.model) == (
        "model_call",
        "summarize",
        "paid",
        "big",
    )
    assert event.cost == Decimal("0.024000") and event.currency == "USD"
    # 09:00 UTC is 15:00 in Dhaka: the same date; the counter holds the actual, not 14 + 50.
    assert event.day == dt.date(2026, 12, 6)
    quota = {q.limit: q for q in meter.metering.quota(session, ctx, NOW)}
    assert quota["company_day_tokens"].used == 19
    assert quota["user_day_cost"].used == pytest.approx(0.024)


def test_a_call_past_a_cost_cap_is_refused_and_falls_back_in_the_chain(
    connection: Connection, session: Session, ctx: RequestContext, tmp_path: Path
) -> None:
    # The paid model's worst case is 14/1000 * 1 + 50/1000 * 2 = 0.114: past a 0.05 day.
    meter, _ = meter_for(connection, BudgetCaps(company_day_cost=Decimal("0.05")))
    llm, paid, free = llm_with(tmp_path, meter)
    with meter.turn(session, ctx) as turn:
        result = llm.generate("summarize", ctx.company_slug, PROMPT)
    assert result.provider == "free"  # costs nothing, so the cost cap lets it through
    assert not paid.calls and free.calls
    assert turn.refused and turn.refused[0]["limit"] == "company_day_cost"
    # The paid provider's health is untouched: a budget is not a provider fault.
    assert llm.health["paid"].consecutive_failures == 0


def test_under_the_refuse_policy_a_token_cap_holds_for_every_model(
    connection: Connection, session: Session, ctx: RequestContext, tmp_path: Path
) -> None:
    meter, _ = meter_for(connection, BudgetCaps(user_day_tokens=60))  # 64 needed
    llm, paid, free = llm_with(tmp_path, meter)
    with meter.turn(session, ctx) as turn, pytest.raises(LLMError) as refused:
        llm.generate("summarize", ctx.company_slug, PROMPT)
    assert refused.value.message.count("llm_budget_exceeded") == 2  # paid, then free
    assert not paid.calls and not free.calls and events(session, ctx) == []
    assert [r["limit"] for r in turn.refused] == ["user_day_tokens", "user_day_tokens"]


def test_the_local_policy_lets_free_models_answer_past_a_cost_cap(
    connection: Connection, session: Session, ctx: RequestContext, tmp_path: Path
) -> None:
    caps = BudgetCaps(company_month_cost=Decimal("0"), user_day_tokens=10, on_hard_cap="local")
    meter, _ = meter_for(connection, caps)
    llm, paid, free = llm_with(tmp_path, meter)
    with meter.turn(session, ctx) as turn:
        result = llm.generate("summarize", ctx.company_slug, PROMPT)
    assert result.provider == "free" and not paid.calls
    assert [f.provider for f, _ in turn.calls] == ["free"] and turn.calls[0][1] == 0
    # Counted (tokens are tokens) but never refused: the free model is the fallback.
    quota = {q.limit: q for q in meter.metering.quota(session, ctx, NOW)}
    assert quota["user_day_tokens"].used == 14 + 2 and quota["user_day_tokens"].exceeded


def test_the_request_allowance_caps_one_turn(
    connection: Connection, session: Session, ctx: RequestContext, tmp_path: Path
) -> None:
    meter, _ = meter_for(connection, BudgetCaps(request_tokens=100))
    llm, paid, _ = llm_with(tmp_path, meter)
    with meter.turn(session, ctx) as turn:
        llm.generate("summarize", ctx.company_slug, PROMPT)  # 64 reserved, 19 used
        llm.generate("summarize", ctx.company_slug, PROMPT)  # 19 + 64 = 83 <= 100
        with pytest.raises(LLMError, match="at most 100 tokens"):
            llm.generate("summarize", ctx.company_slug, PROMPT)  # 38 + 64 > 100, both refuse
    assert len(turn.calls) == 2 and turn.refused[-1]["limit"] == "request_tokens"
    # The next turn has its own allowance.
    with meter.turn(session, ctx) as second:
        llm.generate("summarize", ctx.company_slug, PROMPT)
    assert len(second.calls) == 1


def test_cache_hits_and_streams_are_metered(
    connection: Connection, session: Session, ctx: RequestContext, tmp_path: Path
) -> None:
    meter, _ = meter_for(connection)
    llm, paid, _ = llm_with(tmp_path, meter)

    async def streamed() -> str:
        return "".join([p async for p in llm.stream("knowledge_answer", ctx.company_slug, PROMPT)])

    with meter.turn(session, ctx) as turn:
        first = asyncio.run(streamed())
        again = asyncio.run(streamed())  # the same prompt: served from the cache
    assert first == again == "paid answer in five words" and len(paid.calls) == 1
    recorded = events(session, ctx)
    assert [(e.cached, e.tokens_out) for e in recorded] == [(False, 5), (True, 5)]
    assert recorded[1].cost == 0 and [f.cached for f, _ in turn.calls] == [False, True]


def test_a_call_outside_a_turn_is_charged_to_the_company_it_names(
    connection: Connection, session: Session, ctx: RequestContext, tmp_path: Path
) -> None:
    session.commit()
    meter, _ = meter_for(connection)
    llm, _, _ = llm_with(tmp_path, meter)
    with acting_for(ctx.user_id):
        llm.generate("summarize", ctx.company_slug, PROMPT)
    (event,) = events(session, ctx)
    assert event.company_id == ctx.company_id and event.user_id == ctx.user_id
    # An unknown company is charged nothing and recorded nowhere (and does not fail the call).
    assert llm.generate("summarize", "no-such-company", PROMPT).provider == "paid"
