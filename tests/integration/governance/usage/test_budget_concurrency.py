"""The invariant: spend never passes a hard cap, with 50 requests racing for the last room.

Real threads and real connections: each request reserves through its own session of a
committed database (PostgreSQL: its own connection from a pool of 50; SQLite: the file
database), or through the real Redis server. The company starts 700 tokens into a
1,000-token day, so exactly 12 requests of 25 tokens fit; the other 38 must be refused.
LiteLLM's budgets were exceeded in this situation (issues #11962, #19105).
"""

from __future__ import annotations

import datetime as dt
import threading
import time
import uuid
from collections.abc import Iterator
from decimal import Decimal

import pytest
import redis
from sqlalchemy import create_engine, delete
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from companion.auth.models import User
from companion.config import BudgetCaps, UsageSettings
from companion.governance.usage.budgets import BudgetExceeded, Budgets, Payer
from companion.governance.usage.counter_repository import SqlCounters
from companion.governance.usage.counters import CounterStore, RedisCounters
from companion.governance.usage.models import UsageCounter
from companion.kit.db import make_engine
from companion.tenancy.models import Company

NOW = dt.datetime(2026, 12, 6, 9, 0, tzinfo=dt.UTC)
REQUESTS, AMOUNT, CAP, ALREADY = 50, 25, 1000, 700
USERS = 10


@pytest.fixture
def racing_engine(engine: Engine) -> Iterator[Engine]:
    """An engine on the test database with room for 50 connections at once."""
    url = engine.url.render_as_string(hide_password=False)
    if engine.dialect.name == "postgresql":
        racing = create_engine(url, pool_size=REQUESTS + 2, max_overflow=0)
    else:
        racing = make_engine(url, busy_timeout_s=30)
    yield racing
    racing.dispose()


@pytest.fixture
def payers(racing_engine: Engine) -> Iterator[list[Payer]]:
    """A committed company with ten users (deleted afterwards, counters included)."""
    tag = uuid.uuid4().hex[:8]
    with Session(racing_engine) as session:
        company = Company(slug=f"race-{tag}", name="Race", base_currency="USD")
        users = [
            User(username=f"race-{tag}-{i}", full_name="R", password_hash="x") for i in range(USERS)
        ]
        session.add_all([company, *users])
        session.commit()
        made = [Payer(company.id, company.slug, u.id, "UTC") for u in users]
    yield made
    with Session(racing_engine) as session:
        session.execute(delete(UsageCounter).where(UsageCounter.company_id == made[0].company_id))
        session.execute(delete(User).where(User.id.in_([p.user_id for p in made])))
        session.execute(delete(Company).where(Company.id == made[0].company_id))
        session.commit()


def race(budgets: Budgets, payers: list[Payer]) -> tuple[int, int, float]:
    """50 threads reserve at once; how many were admitted, refused, and the wall time."""
    budgets.reserve(payers[0], NOW, tokens=ALREADY, cost=Decimal(0))
    barrier = threading.Barrier(REQUESTS)
    admitted: list[int] = []
    refused: list[int] = []
    errors: list[BaseException] = []

    def one(i: int) -> None:
        barrier.wait()
        try:
            budgets.reserve(payers[i % USERS], NOW, tokens=AMOUNT, cost=Decimal("0.01"))
            admitted.append(i)
        except BudgetExceeded:
            refused.append(i)
        except BaseException as exc:  # noqa: BLE001 - the thread's boundary: report it
            errors.append(exc)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(REQUESTS)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    elapsed = time.perf_counter() - started
    assert not errors, errors[:3]
    return len(admitted), len(refused), elapsed


def check_invariant(budgets: Budgets, payers: list[Payer], label: str) -> None:
    admitted, refused, elapsed = race(budgets, payers)
    lines = {line.limit: line for line in budgets.quota(payers[0], NOW)}
    total = lines["company_day_tokens"].used
    print(
        f"\n{label}: {admitted} admitted, {refused} refused, total {total:.0f}/{CAP} "
        f"tokens, {elapsed * 1000:.0f} ms for {REQUESTS} requests"
    )
    assert total <= CAP
    assert admitted == (CAP - ALREADY) // AMOUNT == 12 and refused == REQUESTS - 12
    assert total == ALREADY + admitted * AMOUNT
    # All or none: every user's counter and the month's add up to the company's day.
    user_total = 0.0
    for payer in payers:
        user_lines = {line.limit: line for line in budgets.quota(payer, NOW)}
        user_total += user_lines["user_day_tokens"].used
    assert user_total == total
    assert lines["company_month_tokens"].used == total
    assert lines["company_day_cost"].used == pytest.approx(admitted * 0.01)


def caps() -> UsageSettings:
    return UsageSettings(budgets=BudgetCaps(company_day_tokens=CAP))


def test_fifty_concurrent_requests_never_pass_the_cap_in_the_database(
    racing_engine: Engine, payers: list[Payer], backend: str
) -> None:
    store: CounterStore = SqlCounters(sessionmaker(bind=racing_engine, expire_on_commit=False))
    check_invariant(Budgets(caps(), store), payers, f"database ({backend})")


def test_fifty_concurrent_requests_never_pass_the_cap_in_redis(payers: list[Payer]) -> None:
    client = redis.Redis.from_url("redis://127.0.0.1:6379/0", max_connections=REQUESTS + 2)
    prefix = f"companion:test:{uuid.uuid4().hex[:8]}:"
    try:
        check_invariant(Budgets(caps(), RedisCounters(client, prefix=prefix)), payers, "redis")
    finally:
        for key in client.scan_iter(f"{prefix}*"):
            client.delete(key)
        client.close()
