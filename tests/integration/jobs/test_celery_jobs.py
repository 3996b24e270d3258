"""Jobs at scale: Celery over the machine's real Redis, a real worker, SQLite and PostgreSQL.

The worker is Celery's embedded test worker (``start_worker``: a real consumer in a thread
of this process, so the periodic jobs the tests register are the worker's too). Each run
gets its own queue and Redis key prefix, and deletes its keys at the end.
"""

from __future__ import annotations

import datetime as dt
import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from celery.contrib.testing.worker import start_worker
from sqlalchemy import select
from sqlalchemy.orm import Session

from companion.bootstrap import Container, bootstrap
from companion.config import AuthSettings, JobSettings, LLMSettings, Settings
from companion.jobs import runner as job_runner
from companion.jobs import service
from companion.jobs.celery_app import RUN_JOB, TICK, CeleryRunner
from companion.jobs.models import DONE, QUEUED, Job
from companion.jobs.periodic import PERIODIC, PeriodicJob, every, periodic
from companion.kit import migrate
from companion.kit.clock import Clock
from companion.kit.db import session_scope
from companion.tenancy.context import RequestContext
from companion.tenancy.models import Company
from dbutil import new_database_url
from factories import make_company, make_context

REDIS_URL = os.environ.get("COMPANION_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
WAIT_S = 60.0


@pytest.fixture(scope="module")
def prefix() -> Iterator[str]:
    """This run's Redis key prefix; every key under it is deleted afterwards."""
    value = f"companion-test-{uuid.uuid4().hex[:10]}:"
    yield value
    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(match=f"{value}*"))
    if keys:
        client.delete(*keys)
    assert list(client.scan_iter(match=f"{value}*")) == []
    client.close()


@pytest.fixture(scope="module")
def container(
    backend: str,
    prefix: str,
    tmp_path_factory: pytest.TempPathFactory,
    pg_database_factory: list[str],
) -> Iterator[Container]:
    tmp = Path(tmp_path_factory.mktemp("celery"))
    settings = Settings(
        database_url=new_database_url(backend, tmp, pg_database_factory),
        data_dir=tmp,
        demo_mode=False,
        auth=AuthSettings(secret_key=f"celery-test-secret-{uuid.uuid4().hex}"),
        llm=LLMSettings(provider="none"),
        jobs=JobSettings(
            backend="celery",
            broker_url=REDIS_URL,
            queue=f"{prefix}{backend}",
            key_prefix=prefix,
        ),
    )
    container = bootstrap(settings)
    migrate.upgrade(container.engine)
    yield container
    job_runner.release(container)
    container.engine.dispose()


@pytest.fixture(scope="module")
def runner(container: Container) -> CeleryRunner:
    runner = container.job_runner()
    assert isinstance(runner, CeleryRunner)
    return runner


@pytest.fixture
def ctx(container: Container) -> RequestContext:
    with session_scope(container.session_factory) as session:
        company = make_company(session, f"co-{uuid.uuid4().hex[:8]}")
        return make_context(session, company, ["admin"])


def _mark(session: Session, company: Company, clock: Clock) -> dict[str, Any]:
    company.name += "!"
    return {"name": company.name}


@pytest.fixture
def job() -> Iterator[PeriodicJob]:
    # A day's slot: the ticks of one test fall in the same one.
    with PERIODIC.restored():
        yield periodic(f"test.mark.{uuid.uuid4().hex[:6]}", every(hours=24), _mark)


def _queued_messages(container: Container) -> int:
    settings = container.settings.jobs
    client = redis.Redis.from_url(REDIS_URL)
    try:
        return int(client.llen(f"{settings.key_prefix}{settings.queue}"))
    finally:
        client.close()


def _wait_done(container: Container, job_ids: list[str]) -> list[Job]:
    deadline = time.monotonic() + WAIT_S
    while True:
        with container.session_factory() as session:
            jobs = list(session.scalars(select(Job).where(Job.id.in_(job_ids))))
        if len(jobs) == len(job_ids) and all(j.finished_at is not None for j in jobs):
            return jobs
        if time.monotonic() > deadline:
            raise AssertionError(f"jobs not finished in {WAIT_S} s: {[j.status for j in jobs]}")
        time.sleep(0.1)


def _company_name(container: Container, company_id: int) -> str:
    with container.session_factory() as session:
        company = session.get(Company, company_id)
        assert company is not None
        return company.name


def _runs(container: Container, company_id: int, job: PeriodicJob) -> list[Job]:
    with container.session_factory() as session:
        stmt = select(Job).where(Job.company_id == company_id, Job.kind == job.kind)
        return list(session.scalars(stmt))


def test_a_job_is_sent_only_after_the_commit_and_a_worker_runs_it(
    container: Container, runner: CeleryRunner, ctx: RequestContext, job: PeriodicJob
) -> None:
    before = _queued_messages(container)
    name = _company_name(container, ctx.company_id)
    with container.session_factory() as session:
        service.enqueue(session, ctx, job.kind, {"name": job.name}, runner=runner)
        session.rollback()  # a failed request: nothing is sent
    assert _queued_messages(container) == before
    with container.session_factory() as session:
        job_id = service.enqueue(session, ctx, job.kind, {"name": job.name}, runner=runner).id
        session.flush()
        assert _queued_messages(container) == before  # not before the commit
        session.commit()
    assert _queued_messages(container) == before + 1
    with start_worker(runner.celery, perform_ping_check=False, shutdown_timeout=30):
        (done,) = _wait_done(container, [job_id])
    assert done.status == DONE and done.error is None
    assert _company_name(container, ctx.company_id) == name + "!"


def test_beats_tick_twice_a_retried_run_is_delivered_twice_and_each_runs_once(
    container: Container, runner: CeleryRunner, ctx: RequestContext, job: PeriodicJob
) -> None:
    name = _company_name(container, ctx.company_id)
    with start_worker(runner.celery, perform_ping_check=False, shutdown_timeout=30):
        # Two beats (or a retried tick): the run key keeps it to one run per slot.
        runner.celery.send_task(TICK, queue=runner.queue)
        runner.celery.send_task(TICK, queue=runner.queue)
        deadline = time.monotonic() + WAIT_S
        while not (runs := _runs(container, ctx.company_id, job)) or runs[0].status == QUEUED:
            assert time.monotonic() < deadline, "the tick did not plan the run"
            time.sleep(0.1)
        (run,) = _wait_done(container, [runs[0].id])
        assert run.status == DONE
        # A redelivered task (a worker lost after running it, a manual retry): no effect.
        runner.celery.send_task(RUN_JOB, args=[run.id], queue=runner.queue)
        runner.celery.send_task(TICK, queue=runner.queue)
        deadline = time.monotonic() + 5
        while _queued_messages(container) and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1.0)  # let the worker finish what it took
    assert len(_runs(container, ctx.company_id, job)) == 1
    assert run.run_key is not None and run.run_key.startswith(f"{job.name}@")
    assert dt.datetime.fromisoformat(str(run.payload["slot"])).tzinfo is not None
    assert _company_name(container, ctx.company_id) == name + "!"
