"""Budget counters on SQLite, PostgreSQL and Redis: caps hold, all or none, settle gives back.

Redis is the real server on 127.0.0.1:6379 (each test uses its own key prefix and clears it).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from decimal import Decimal

import pytest
import redis
from sqlalchemy import Connection, select
from sqlalchemy.orm import Session, sessionmaker

from companion.config import BudgetCaps, UsageSettings
from companion.governance.usage.budgets import BudgetExceeded, Budgets, Payer
from companion.governance.usage.counter_repository import SqlCounters
from companion.governance.usage.counters import Charge, CounterKey, CounterStore, RedisCounters
from companion.governance.usage.models import UsageCounter
from factories import make_company, make_user

NOW = dt.datetime(2026, 12, 6, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def factory(connection: Connection) -> sessionmaker[Session]:
    return sessionmaker(bind=connection, join_transaction_mode="create_savepoint")


@pytest.fixture(params=["database", "redis"])
def store(request: pytest.FixtureRequest, factory: sessionmaker[Session]) -> Iterator[CounterStore]:
    if request.param == "database":
        yield SqlCounters(factory)
        return
    client = redis.Redis.from_url("redis://127.0.0.1:6379/0")
    prefix = f"companion:test:{uuid.uuid4().hex[:8]}:"
    yield RedisCounters(client, prefix=prefix)
    for key in client.scan_iter(f"{prefix}*"):
        client.delete(key)
    client.close()


def key(company_id: int, scope: str = "company_day", metric: str = "tokens") -> CounterKey:
    return CounterKey(company_id, scope, 0, "2026-12-06", metric)


def test_a_charge_past_its_cap_is_refused_and_adds_nothing(
    store: CounterStore, session: Session
) -> None:
    company = make_company(session, "capco")
    k = key(company.id)
    assert store.reserve([Charge(k, 60, 100, 3600)]) is None
    assert store.reserve([Charge(k, 40, 100, 3600)]) is None  # exactly at the cap is allowed
    refused = store.reserve([Charge(k, 1, 100, 3600)])
    assert refused is not None and refused.key == k
    assert store.read([k]) == {k: 100}


def test_a_reservation_is_all_or_none(store: CounterStore, session: Session) -> None:
    company = make_company(session, "allnone")
    day, month = key(company.id), key(company.id, "company_month")
    store.reserve([Charge(month, 95, 100, 3600)])
    # The day has room, the month has not: neither is charged.
    refused = store.reserve([Charge(day, 10, 1000, 3600), Charge(month, 10, 100, 3600)])
    assert refused is not None and refused.key == month
    assert store.read([day, month]) == {day: 0, month: 95}


def test_release_gives_back_and_never_goes_below_zero(
    store: CounterStore, session: Session
) -> None:
    company = make_company(session, "release")
    k = key(company.id)
    store.reserve([Charge(k, 50, None, 3600)])
    store.release([Charge(k, 20, None, 3600)])
    assert store.read([k]) == {k: 30}
    store.release([Charge(k, 500, None, 3600)])
    assert store.read([k]) == {k: 0}
    assert store.read([key(company.id, "user_day")]) == {key(company.id, "user_day"): 0}


def test_another_companys_counter_is_its_own(store: CounterStore, session: Session) -> None:
    acme, globex = make_company(session, "acme-c"), make_company(session, "globex-c")
    store.reserve([Charge(key(acme.id), 100, 100, 3600)])
    assert store.reserve([Charge(key(globex.id), 100, 100, 3600)]) is None


def test_budgets_reserve_the_worst_case_and_settle_the_actual(
    factory: sessionmaker[Session], session: Session
) -> None:
    company = make_company(session, "settle")
    user = make_user(session, "settle-user")
    session.commit()
    settings = UsageSettings(
        budgets=BudgetCaps(user_day_tokens=1000, company_month_cost=Decimal("1"))
    )
    budgets = Budgets(settings, SqlCounters(factory))
    payer = Payer(company.id, company.slug, user.id, "Asia/Dhaka")
    reservation = budgets.reserve(payer, NOW, tokens=800, cost=Decimal("0.5"))
    with pytest.raises(BudgetExceeded) as refused:
        budgets.reserve(payer, NOW, tokens=300, cost=Decimal("0.1"))
    details = refused.value.details
    assert refused.value.status_code == 429 and details["limit"] == "user_day_tokens"
    # Dhaka's 6 December ends at 18:00 UTC: the message and details say so.
    assert details["resets_at"] == "2026-12-06T18:00:00+00:00"
    assert details["retry_after"] == 9 * 3600 + 1
    assert "resets at 2026-12-06T18:00:00+00:00" in refused.value.message
    budgets.settle(reservation, tokens=120, cost=Decimal("0.05"))
    lines = {line.limit: line for line in budgets.quota(payer, NOW)}
    assert lines["user_day_tokens"].used == 120 and lines["user_day_tokens"].cap == 1000
    assert lines["company_month_cost"].used == pytest.approx(0.05)
    assert lines["company_day_tokens"].cap is None and not lines["user_day_tokens"].warning
    # Now the 300 fit.
    budgets.reserve(payer, NOW, tokens=300, cost=Decimal("0.1"))
    rows = session.scalars(select(UsageCounter).where(UsageCounter.metric == "tokens")).all()
    assert {r.scope: r.spent for r in rows if r.company_id == company.id} == {
        "user_day": 420,
        "company_day": 420,
        "company_month": 420,
    }


def test_soft_cap_warning_at_80_percent(factory: sessionmaker[Session], session: Session) -> None:
    company = make_company(session, "softcap")
    settings = UsageSettings(budgets=BudgetCaps(company_day_tokens=100))
    budgets = Budgets(settings, SqlCounters(factory))
    payer = Payer(company.id, company.slug, None, None)
    budgets.reserve(payer, NOW, tokens=79, cost=Decimal(0))
    assert not any(line.warning for line in budgets.quota(payer, NOW))
    budgets.reserve(payer, NOW, tokens=1, cost=Decimal(0))
    warned = [line for line in budgets.quota(payer, NOW) if line.warning]
    assert [w.limit for w in warned] == ["company_day_tokens"] and warned[0].ratio == 0.8
    budgets.reserve(payer, NOW, tokens=20, cost=Decimal(0))
    with pytest.raises(BudgetExceeded):
        budgets.check(payer, NOW)
    # The next local day starts from zero.
    budgets.check(payer, NOW + dt.timedelta(days=1))


def test_a_call_that_used_more_than_reserved_is_counted_in_full(
    store: CounterStore, session: Session
) -> None:
    # A remote server's prompt count can differ from the estimate: the counters keep the truth.
    company = make_company(session, "overrun")
    session.commit()
    budgets = Budgets(UsageSettings(budgets=BudgetCaps(company_day_tokens=100)), store)
    payer = Payer(company.id, company.slug, None, None)
    reservation = budgets.reserve(payer, NOW, tokens=90, cost=Decimal("0.01"))
    budgets.settle(reservation, tokens=104, cost=Decimal("0.02"))
    lines = {line.limit: line for line in budgets.quota(payer, NOW)}
    assert lines["company_day_tokens"].used == 104 and lines["company_day_tokens"].exceeded
    assert lines["company_month_cost"].used == pytest.approx(0.02)
    with pytest.raises(BudgetExceeded):
        budgets.reserve(payer, NOW, tokens=1, cost=Decimal(0))
