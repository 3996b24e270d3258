"""Redis unreachable: rate limits count in the process, budget counters in the database.

The machine's Redis is never touched: the app is pointed at a closed port (refused at once)
or at a port that accepts connections and never answers (the read timeout, 2 s, ends the
wait), and the budget test runs a ``redis-server`` of its own on a free port, which it
stops and starts again. After the first failure nothing tries Redis for 30 s.
"""

from __future__ import annotations

import datetime as dt
import logging
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from e2e_support import PASSWORD, Tenants, make_settings
from sqlalchemy import delete
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from companion.auth.models import User
from companion.config import BudgetCaps, RateLimitSettings, Settings, UsageSettings
from companion.governance.usage.budgets import BudgetExceeded, Budgets, Payer
from companion.governance.usage.counter_repository import SqlCounters
from companion.governance.usage.counters import CounterKey, FallbackCounters, RedisCounters
from companion.governance.usage.fallback import Fallback
from companion.governance.usage.models import UsageCounter
from companion.tenancy.models import Company
from llmserver import free_port

NOW = dt.datetime(2026, 12, 6, 9, 0, tzinfo=dt.UTC)
# What one request may take with Redis down: the 2 s read timeout at worst, plus room for a
# loaded machine (5.5 s was seen at load 20; without timeouts redis-py waits for ever on a
# Redis that never answers, and the OS's connect timeout is minutes).
BOUND_S = 10.0


@pytest.fixture(params=["closed", "silent"])
def dead_redis(request: pytest.FixtureRequest) -> Iterator[str]:
    """A Redis URL nothing answers at: a closed port, or one that never replies."""
    if request.param == "closed":
        yield f"redis://127.0.0.1:{free_port()}/0"
        return
    with socket.socket() as silent:  # the kernel completes the handshake; nobody reads
        silent.bind(("127.0.0.1", 0))
        silent.listen(64)
        yield f"redis://127.0.0.1:{silent.getsockname()[1]}/0"


@pytest.fixture
def settings(engine: Engine, dead_redis: str) -> Settings:
    """The app's rate limits and budget counters kept in a Redis that does not answer."""
    return make_settings(
        engine.url.render_as_string(hide_password=False),
        rate_limits=RateLimitSettings(
            storage_url=dead_redis, login_per_username="3 per 15 minutes"
        ),
        usage=UsageSettings(counters="redis", redis_url=dead_redis),
    )


def test_sign_in_limits_hold_in_the_process_while_redis_is_down(
    client: TestClient, tenants: Tenants, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, "companion.governance.usage.fallback")
    statuses = []
    for password in ("wrong-1", "wrong-2", "wrong-3", PASSWORD):
        started = time.monotonic()
        answer = client.post(
            "/api/v1/auth/login", json={"username": "acme-finance", "password": password}
        )
        assert time.monotonic() - started < BOUND_S
        statuses.append((answer.status_code, answer.json().get("error", {}).get("code")))
    # Three failures lock the account out, counted in this process: even the right password.
    assert statuses == [(401, "not_authenticated")] * 3 + [(429, "login_throttled")]
    other = client.post("/api/v1/auth/login", json={"username": "acme-sales", "password": PASSWORD})
    assert other.status_code == 200, other.text
    warnings = [r for r in caplog.records if "unreachable" in r.getMessage()]
    assert len(warnings) == 1  # once per outage, not once per request


class RedisServer:
    """A ``redis-server`` of the test's own (no persistence) on a fixed free port."""

    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.folder = folder
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [shutil.which("redis-server") or "redis-server", "--port", str(self.port)]
            + ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            cwd=self.folder,
            stdout=subprocess.DEVNULL,
        )
        client = RedisCounters.from_url(self.url)._client
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                return
            except OSError:
                pass
            except Exception:  # noqa: BLE001 - redis' ConnectionError until it listens
                assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is needed for the Redis fault tests")
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def payer(engine: Engine) -> Iterator[Payer]:
    """A committed company and user (deleted afterwards, counters included)."""
    tag = uuid.uuid4().hex[:8]
    with Session(engine) as session:
        company = Company(slug=f"fault-{tag}", name="Fault", base_currency="USD")
        user = User(username=f"fault-{tag}", full_name="F", password_hash="x")
        session.add_all([company, user])
        session.commit()
        made = Payer(company.id, company.slug, user.id, "UTC")
    yield made
    with Session(engine) as session:
        session.execute(delete(UsageCounter).where(UsageCounter.company_id == made.company_id))
        session.execute(delete(User).where(User.id == made.user_id))
        session.execute(delete(Company).where(Company.id == made.company_id))
        session.commit()


def company_day(store: RedisCounters | SqlCounters, payer: Payer) -> int:
    key = CounterKey(payer.company_id, "company_day", 0, NOW.date().isoformat(), "tokens")
    return store.read([key])[key]


def test_budget_counters_fall_back_to_the_database_and_return_to_redis(
    engine: Engine, redis_server: RedisServer, payer: Payer
) -> None:
    in_redis = RedisCounters.from_url(redis_server.url)
    in_database = SqlCounters(sessionmaker(bind=engine, expire_on_commit=False))
    store = FallbackCounters(in_redis, in_database, Fallback("test Redis", retry_s=0.5))
    budgets = Budgets(UsageSettings(budgets=BudgetCaps(company_day_tokens=250)), store)

    def reserve(tokens: int) -> None:
        started = time.monotonic()
        try:
            budgets.reserve(payer, NOW, tokens=tokens, cost=Decimal(0))
        finally:
            assert time.monotonic() - started < BOUND_S

    reserve(100)
    assert (company_day(in_redis, payer), company_day(in_database, payer)) == (100, 0)

    redis_server.stop()
    reserve(100)  # counted in the database, not refused, not held
    assert company_day(in_database, payer) == 100
    with pytest.raises(BudgetExceeded):  # the cap still holds on what the database counted
        reserve(200)
    assert company_day(in_database, payer) == 100

    redis_server.start()  # an empty Redis (no persistence) on the same port
    time.sleep(0.6)  # past the retry interval: the next call tries Redis again
    reserve(50)
    assert (company_day(in_redis, payer), company_day(in_database, payer)) == (50, 100)
