"""Budget reservations: latency per reservation, and the 50-request race against a naive check.

    .venv/bin/python bench/budget_bench.py [--pg URL] [--redis URL] [--runs 300]

For each counter store (SQLite file, PostgreSQL when ``--pg`` names an empty database to
migrate, Redis): the median and p95 of one reservation (six counters: the user's day, the
company's day and month, tokens and cost) and one settlement, against a baseline measured
in the same run on the same store: one plain ``UPDATE ... SET spent = spent + 1`` of one
counter (the least any write costs there; Redis: one INCRBY). Then the race: 50 threads
each reserve 25 tokens when 300 are left of a 1,000-token day; ours admits exactly 12. A
naive check (read what was spent, compare, then write, the way the budgets of LiteLLM
#11962/#19105 were kept) runs the same race for contrast.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from decimal import Decimal

sys.path.insert(0, os.path.dirname(__file__))

import redis  # noqa: E402
from common import p, summary, timed  # noqa: E402
from sqlalchemy import create_engine, select, text, update  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402
from sqlalchemy.orm import Session, sessionmaker  # noqa: E402

from companion.auth.models import User  # noqa: E402
from companion.config import BudgetCaps, UsageSettings  # noqa: E402
from companion.governance.usage.budgets import BudgetExceeded, Budgets, Payer  # noqa: E402
from companion.governance.usage.counter_repository import SqlCounters  # noqa: E402
from companion.governance.usage.counters import CounterStore, RedisCounters  # noqa: E402
from companion.governance.usage.models import UsageCounter  # noqa: E402
from companion.kit import migrate  # noqa: E402
from companion.kit.db import make_engine  # noqa: E402
from companion.tenancy.models import Company  # noqa: E402

NOW = dt.datetime(2026, 12, 6, 9, 0, tzinfo=dt.UTC)
THREADS, AMOUNT, CAP, ALREADY = 50, 25, 1000, 700


def payers(engine: Engine, n: int = 10) -> list[Payer]:
    tag = uuid.uuid4().hex[:8]
    with Session(engine) as session:
        company = Company(slug=f"bench-{tag}", name="Bench", base_currency="USD")
        users = [User(username=f"b-{tag}-{i}", full_name="B", password_hash="x") for i in range(n)]
        session.add_all([company, *users])
        session.commit()
        return [Payer(company.id, company.slug, u.id, "UTC") for u in users]


def latency(name: str, store: CounterStore, who: list[Payer], baseline, runs: int) -> None:  # type: ignore[no-untyped-def]
    budgets = Budgets(UsageSettings(budgets=BudgetCaps(company_day_tokens=10**12)), store)
    reserve = timed(lambda: budgets.reserve(who[0], NOW, tokens=10, cost=Decimal("0.001")), runs)
    reservation = budgets.reserve(who[0], NOW, tokens=10, cost=Decimal("0.001"))
    settle = timed(lambda: budgets.settle(reservation, tokens=0, cost=Decimal(0)), runs)
    base = timed(baseline, runs)
    for label, samples in (
        (f"{name}: reserve", reserve),
        (f"{name}: settle", settle),
        (f"{name}: baseline write", base),
    ):
        print(summary(label, samples))
    print(
        f"{name}: reserve / baseline median "
        f"{statistics.median(reserve) / statistics.median(base):.1f}x, "
        f"p95 {p(reserve, 95) / p(base, 95):.1f}x"
    )


def race(name: str, reserve_one, prime) -> None:  # type: ignore[no-untyped-def]
    prime()
    barrier = threading.Barrier(THREADS)
    admitted: list[int] = []

    def one(i: int) -> None:
        barrier.wait()
        if reserve_one(i):
            admitted.append(i)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(THREADS)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ms = (time.perf_counter() - started) * 1000
    total = ALREADY + len(admitted) * AMOUNT
    verdict = "held" if total <= CAP else "EXCEEDED"
    print(
        f"{name}: {len(admitted)} of {THREADS} admitted, total {total}/{CAP} ({verdict}), "
        f"{ms:.0f} ms"
    )


def budgets_race(name: str, store: CounterStore, who: list[Payer]) -> None:
    budgets = Budgets(UsageSettings(budgets=BudgetCaps(company_day_tokens=CAP)), store)

    def one(i: int) -> bool:
        try:
            budgets.reserve(who[i % len(who)], NOW, tokens=AMOUNT, cost=Decimal(0))
            return True
        except BudgetExceeded:
            return False

    race(name, one, lambda: budgets.reserve(who[0], NOW, tokens=ALREADY, cost=Decimal(0)))


def naive_race(name: str, engine: Engine, who: list[Payer]) -> None:
    """Read, compare in Python, write: the race the conditional update closes."""
    factory = sessionmaker(bind=engine)
    company_id = who[0].company_id
    where = (UsageCounter.company_id == company_id, UsageCounter.scope == "naive")

    def prime() -> None:
        with factory() as s:
            s.add(
                UsageCounter(
                    company_id=company_id,
                    scope="naive",
                    subject=0,
                    period="p",
                    metric="tokens",
                    spent=ALREADY,
                )
            )
            s.commit()

    def one(i: int) -> bool:
        with factory() as s:
            spent = s.execute(select(UsageCounter.spent).where(*where)).scalar_one()
            time.sleep(0.001)  # the work between the check and the write (a model call's setup)
            if spent + AMOUNT > CAP:
                return False
            s.execute(update(UsageCounter).where(*where).values(spent=spent + AMOUNT))
            s.commit()
            return True

    race(name, one, prime)


def sql_store(name: str, engine: Engine, runs: int) -> None:
    migrate.upgrade(engine)
    who = payers(engine)
    store = SqlCounters(sessionmaker(bind=engine, expire_on_commit=False))
    counter_id = who[0].company_id

    def baseline() -> None:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "UPDATE usage_counters SET spent = spent + 1 WHERE company_id = :c "
                    "AND scope = 'company_day' AND metric = 'tokens'"
                ),
                {"c": counter_id},
            )

    latency(name, store, who, baseline, runs)
    race_who = payers(engine)
    budgets_race(f"{name}: race, conditional update", store, race_who)
    if engine.dialect.name == "postgresql":
        naive_race(f"{name}: race, naive read-then-write", engine, payers(engine))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pg", help="URL of an empty PostgreSQL database to migrate")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--runs", type=int, default=300)
    args = parser.parse_args()
    print(f"cpus={os.cpu_count()} load={os.getloadavg()[0]:.2f} (a shared, loaded machine)")
    with tempfile.TemporaryDirectory() as tmp:
        sqlite = make_engine(f"sqlite:///{tmp}/bench.db", busy_timeout_s=30)
        sql_store("sqlite", sqlite, args.runs)
        if args.pg:
            pg = create_engine(args.pg, pool_size=THREADS + 2, max_overflow=0)
            sql_store("postgresql", pg, args.runs)
        client = redis.Redis.from_url(args.redis, max_connections=THREADS + 2)
        prefix = f"companion:bench:{uuid.uuid4().hex[:8]}:"
        store = RedisCounters(client, prefix=prefix)
        who = payers(sqlite)
        key = f"{prefix}baseline"
        latency("redis", store, who, lambda: client.incrby(key, 1), args.runs)
        budgets_race(
            "redis: race, Lua script", RedisCounters(client, prefix=prefix + "r:"), payers(sqlite)
        )
        for k in client.scan_iter(f"{prefix}*"):
            client.delete(k)


if __name__ == "__main__":
    main()
