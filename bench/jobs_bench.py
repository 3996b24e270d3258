"""Periodic jobs: what a scheduler tick costs, and how fast the runner gets through runs.

    .venv/bin/python bench/jobs_bench.py [--database-url URL] [--companies 200] [--jobs 3]

A fresh SQLite file in a temporary folder unless ``--database-url`` names an empty
database. Prints median and p95 of: the lease renewal every tick makes (the baseline), a
tick with nothing due (every run of the slot planned already), a tick that plans a new slot
(companies x jobs runs inserted), and the time per run when the in-process runner executes
no-op periodic runs (claim, call, record done).
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from common import p, summary, timed
from sqlalchemy.orm import Session

from companion.bootstrap import bootstrap
from companion.config import AuthSettings, JobSettings, LLMSettings, Settings
from companion.jobs import runner as job_runner
from companion.jobs.periodic import PERIODIC, every, periodic
from companion.jobs.runner import JobRunner
from companion.jobs.scheduler import Lease, tick
from companion.kit import migrate
from companion.kit.clock import Clock
from companion.kit.db import session_scope
from companion.tenancy.models import Company

T0 = dt.datetime(2026, 12, 6, 8, 0, tzinfo=dt.UTC)


def noop(session: Session, company: Company, clock: Clock) -> dict[str, Any]:
    return {"ok": True}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url")
    parser.add_argument("--companies", type=int, default=200)
    parser.add_argument("--jobs", type=int, default=3)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="jobs-bench-"))
    url = args.database_url or f"sqlite:///{tmp / 'bench.db'}"
    settings = Settings(
        database_url=url,
        data_dir=tmp,
        demo_mode=False,
        auth=AuthSettings(secret_key=f"bench-{uuid.uuid4().hex}-0123456789abcdef"),
        llm=LLMSettings(provider="none"),
        jobs=JobSettings(tick_seconds=0),
    )
    container = bootstrap(settings)
    migrate.upgrade(container.engine)
    with session_scope(container.session_factory) as session:
        for n in range(args.companies):
            session.add(Company(slug=f"bench-{n}", name=f"Bench {n}", base_currency="USD"))
    runner = job_runner.install(
        container,
        JobRunner(container.session_factory, job_runner.default_handlers(container), workers=0),
    )
    with PERIODIC.restored():
        jobs = [periodic(f"bench.{n}", every(minutes=1), noop) for n in range(args.jobs)]
        lease = Lease(container.session_factory, "bench", 90.0, name="bench")
        renew = timed(lambda: lease.acquire(T0), args.runs)
        tick(container, T0, jobs)
        runner._held.clear()
        idle = timed(lambda: tick(container, T0, jobs), args.runs)
        slots = iter(range(1, 10**6))
        planning = timed(
            lambda: tick(container, T0 + dt.timedelta(minutes=next(slots)), jobs),
            max(3, args.runs // 3),
            warmup=1,
        )
        held = len(runner._held)
        started = time.perf_counter()
        statuses = runner.drain()
        per_run = (time.perf_counter() - started) * 1000 / max(1, len(statuses))
    runs_per_tick = args.companies * args.jobs
    print(
        f"database: {container.engine.dialect.name}; {args.companies} companies x "
        f"{args.jobs} periodic jobs = {runs_per_tick} runs per slot"
    )
    print(summary("lease renewal (baseline)", renew))
    print(summary("tick, nothing due", idle))
    print(summary(f"tick, {runs_per_tick} runs planned", planning))
    base = statistics.median(renew)
    print(
        f"ratios to the lease renewal (median): nothing due {statistics.median(idle) / base:.1f}x, "
        f"planning {statistics.median(planning) / base:.1f}x (p95 {p(planning, 95) / base:.1f}x)"
    )
    done = statuses.count("done")
    print(
        f"runner: {held} held runs drained, {done} done, {per_run:.2f} ms per run "
        f"({1000 / per_run:.0f} runs/s, one thread)"
    )
    container.engine.dispose()


if __name__ == "__main__":
    main()
