"""Periodic jobs on SQLite and PostgreSQL: one run per slot, one scheduler per deployment.

The schedulers' lease and the runs need real commits seen by other connections, so these
tests use a private database of each backend (a fresh company per test tells rows apart).
"""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from companion.bootstrap import Container, bootstrap
from companion.config import AuthSettings, JobSettings, LLMSettings, Settings
from companion.jobs import repository as repo
from companion.jobs import runner as job_runner
from companion.jobs import scheduler as sched
from companion.jobs.models import DONE, FAILED, QUEUED, Job, JobLease
from companion.jobs.periodic import PERIODIC, PeriodicJob, every, periodic, run_key
from companion.jobs.runner import JobRunner
from companion.jobs.scheduler import Lease, Scheduler, plan_due
from companion.jobs.service import prune_finished, run_job
from companion.kit import migrate
from companion.kit.clock import Clock, FixedClock
from companion.kit.db import begin_for_writing, session_scope
from companion.tenancy.models import Company
from dbutil import new_database_url
from factories import make_company

T0 = dt.datetime(2026, 12, 6, 8, 0, tzinfo=dt.UTC)
LEASE_S = 90.0


@pytest.fixture(scope="module")
def container(
    backend: str, tmp_path_factory: pytest.TempPathFactory, pg_database_factory: list[str]
) -> Iterator[Container]:
    tmp = Path(tmp_path_factory.mktemp("sched"))
    settings = Settings(
        database_url=new_database_url(backend, tmp, pg_database_factory),
        data_dir=tmp,
        demo_mode=False,
        auth=AuthSettings(secret_key=f"sched-test-secret-{uuid.uuid4().hex}"),
        llm=LLMSettings(provider="none"),
        jobs=JobSettings(tick_seconds=0, lease_seconds=LEASE_S),
    )
    container = bootstrap(settings, clock=FixedClock(T0))
    migrate.upgrade(container.engine)
    yield container
    job_runner.release(container)
    container.engine.dispose()


@pytest.fixture
def runner(container: Container) -> Iterator[JobRunner]:
    """A runner holding submitted runs until drained (so a test sees each step)."""
    runner = job_runner.install(
        container,
        JobRunner(container.session_factory, job_runner.default_handlers(container), workers=0),
    )
    yield runner
    runner.drain()


@pytest.fixture
def company(container: Container) -> Company:
    with session_scope(container.session_factory) as session:
        return make_company(session, f"co-{uuid.uuid4().hex[:8]}")


@pytest.fixture
def lease_name() -> str:
    """A lease of the test's own (the module's tests share one database)."""
    return f"test-{uuid.uuid4().hex[:8]}"


def _mark(session: Session, company: Company, clock: Clock) -> dict[str, Any]:
    """A periodic job with a visible effect: one '!' on the company's name per run."""
    company.name += "!"
    return {"name": company.name}


def _runs(container: Container, company: Company, name: str) -> list[Job]:
    with container.session_factory() as session:
        stmt = (
            select(Job)
            .where(Job.company_id == company.id, Job.kind == f"periodic:{name}")
            .order_by(Job.run_key)
        )
        return list(session.scalars(stmt))


def _all_runs(container: Container, company: Company) -> list[Job]:
    with container.session_factory() as session:
        return list(session.scalars(select(Job).where(Job.company_id == company.id)))


def _name(container: Container, company: Company) -> str:
    with container.session_factory() as session:
        row = session.get(Company, company.id)
        assert row is not None
        return row.name


@pytest.fixture
def job() -> Iterator[PeriodicJob]:
    with PERIODIC.restored():
        yield periodic(f"test.mark.{uuid.uuid4().hex[:6]}", every(minutes=15), _mark)


def test_a_tick_adds_one_run_per_company_and_slot_and_a_second_tick_adds_none(
    container: Container, runner: JobRunner, company: Company, job: PeriodicJob
) -> None:
    # Every registered job: the shipped ones (alerts.scan, jobs.prune) run here too.
    first = sched.tick(container, T0 + dt.timedelta(minutes=3))
    again = sched.tick(container, T0 + dt.timedelta(minutes=14))  # same 08:00 slot
    runs = _runs(container, company, job.name)
    assert len(runs) == 1 and runs[0].id in first and runs[0].id not in again
    assert runs[0].run_key == run_key(job.name, T0) == f"{job.name}@2026-12-06T08:00:00Z"
    assert runs[0].status == QUEUED and runs[0].user_id is None
    assert {r.kind for r in _all_runs(container, company)} >= {
        "periodic:alerts.scan",
        "periodic:jobs.prune",
    }
    # Handed to the runner only after the tick's commit; run now.
    assert DONE in runner.drain()
    done = {r.kind: r for r in _all_runs(container, company) if r.status == DONE}
    assert {"periodic:alerts.scan", "periodic:jobs.prune", job.kind} <= set(done)
    alerts_run = done["periodic:alerts.scan"]
    assert alerts_run.result is not None and alerts_run.result["outcome"]["company"] == company.slug
    run = _runs(container, company, job.name)[0]
    assert run.status == DONE and run.started_at is not None and run.finished_at is not None
    assert run.result == {
        "name": job.name,
        "slot": T0.isoformat(),
        "outcome": {"name": company.name + "!"},
    }
    assert _name(container, company) == company.name + "!"
    # The next slot is a new run.
    sched.tick(container, T0 + dt.timedelta(minutes=15), [job])
    runner.drain()
    assert [r.status for r in _runs(container, company, job.name)] == [DONE, DONE]
    assert _name(container, company) == company.name + "!!"


def test_a_redelivered_run_does_nothing_twice(
    container: Container, runner: JobRunner, company: Company, job: PeriodicJob
) -> None:
    sched.tick(container, T0, [job])
    runner.drain()
    (run,) = _runs(container, company, job.name)
    handlers = job_runner.default_handlers(container)
    # A retried or redelivered task (Celery's acks_late) finds the run done: no effect.
    assert run_job(container.session_factory, run.id, handlers) is None
    assert _name(container, company) == company.name + "!"


def test_a_failing_run_is_recorded_and_its_writes_are_undone(
    container: Container, runner: JobRunner, company: Company
) -> None:
    def half(session: Session, company: Company, clock: Clock) -> None:
        company.name += "?"
        session.flush()
        raise RuntimeError("the detector fell over")

    with PERIODIC.restored():
        job = periodic(f"test.half.{uuid.uuid4().hex[:6]}", every(minutes=15), half)
        sched.tick(container, T0, [job])
        assert FAILED in runner.drain()
    (run,) = _runs(container, company, job.name)
    assert run.status == FAILED and run.finished_at is not None
    assert run.error == "The job stopped on an internal error (RuntimeError)"
    assert _name(container, company) == company.name  # the '?' was rolled back


def test_a_run_of_a_job_this_process_does_not_know_fails_by_name(
    container: Container, runner: JobRunner, company: Company
) -> None:
    gone = PeriodicJob("test.gone", every(minutes=15), _mark)
    with session_scope(container.session_factory) as session:
        (job_id, *_) = [
            i
            for i in plan_due(session, T0, [gone])
            if repo.get(session, i).company_id == company.id
        ]
    assert run_job(container.session_factory, job_id, job_runner.default_handlers(container))
    with container.session_factory() as session:
        job = session.get(Job, job_id)
        assert job is not None and job.status == FAILED
        assert job.error == "No periodic job named 'test.gone' is registered in this process"


def test_two_ticks_racing_on_one_slot_make_one_run(
    container: Container, company: Company, job: PeriodicJob
) -> None:
    barrier = threading.Barrier(2)
    added: list[list[str]] = []
    errors: list[BaseException] = []

    def plan() -> None:
        try:
            with session_scope(container.session_factory) as session:
                barrier.wait(timeout=30)
                begin_for_writing(session)  # as tick() does (SQLite queues on the lock)
                added.append(plan_due(session, T0, [job]))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=plan) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert len(_runs(container, company, job.name)) == 1


def test_only_the_lease_holder_ticks_and_another_takes_over_after_expiry(
    container: Container, runner: JobRunner, company: Company, job: PeriodicJob, lease_name: str
) -> None:
    now = [T0]
    a = Scheduler(container, holder="a", now=lambda: now[0], jobs=[job])
    b = Scheduler(container, holder="b", now=lambda: now[0], jobs=[job])
    a.lease.name = b.lease.name = lease_name
    assert a.tick_once() is not None  # a takes the free lease and ticks
    assert b.tick_once() is None  # b does not, at the same moment
    assert _holder(container, lease_name) == ("a", T0 + dt.timedelta(seconds=LEASE_S))
    now[0] = T0 + dt.timedelta(seconds=60)
    assert a.tick_once() == []  # a renews (nothing new is due in this slot)
    now[0] = T0 + dt.timedelta(seconds=149)
    assert b.tick_once() is None  # still a's: renewed at +60 s until +150 s
    # a stops renewing (hung or dead): once its lease has run out, b takes over.
    now[0] = T0 + dt.timedelta(seconds=151)
    assert b.tick_once() == []
    assert _holder(container, lease_name) == ("b", now[0] + dt.timedelta(seconds=LEASE_S))
    assert a.tick_once() is None  # a comes back: the lease is b's now
    runner.drain()
    # Two holders ticked in the 08:00 slot: one run, one effect.
    assert len(_runs(container, company, job.name)) == 1
    assert _name(container, company) == company.name + "!"


def test_a_stopped_scheduler_gives_its_lease_up_at_once(
    container: Container, lease_name: str
) -> None:
    with PERIODIC.restored():
        a = Scheduler(container, holder="a", interval=3600, now=lambda: T0)
        b = Scheduler(container, holder="b", interval=3600, now=lambda: T0)
        a.lease.name = b.lease.name = lease_name
        assert a.lease.acquire(T0) and not b.lease.acquire(T0)
        a.start()
        a.stop()
        assert _holder(container, lease_name) == (None, None)
        assert b.lease.acquire(T0)


def test_racing_processes_never_both_hold_a_free_lease(
    container: Container, lease_name: str
) -> None:
    holders = [Lease(container.session_factory, f"p{i}", LEASE_S, lease_name) for i in range(3)]
    for round_ in range(5):
        now = T0 + dt.timedelta(seconds=round_ * (LEASE_S + 1))  # the last lease has run out
        won, errors = _race(holders, now)
        assert errors == [] and len(won) == 1, (round_, won, errors)
        assert _holder(container, lease_name)[0] == won[0]


def test_prune_deletes_only_the_companys_old_finished_jobs(
    container: Container, company: Company
) -> None:
    old, recent = T0 - dt.timedelta(days=31), T0 - dt.timedelta(days=29)
    with session_scope(container.session_factory) as session:
        other = make_company(session, f"other-{uuid.uuid4().hex[:8]}")
        for owner, status, finished in [
            (company.id, DONE, old),
            (company.id, FAILED, old),
            (company.id, DONE, recent),
            (company.id, QUEUED, None),
            (other.id, DONE, old),
        ]:
            session.add(
                Job(
                    company_id=owner,
                    kind="test",
                    status=status,
                    payload={},
                    created_at=old,
                    finished_at=finished,
                )
            )
    with session_scope(container.session_factory) as session:
        mine = session.get(Company, company.id)
        assert mine is not None
        assert prune_finished(session, mine, FixedClock(T0)) == {"deleted": 2}
    with container.session_factory() as session:
        count = select(func.count()).select_from(Job).where(Job.kind == "test")
        assert session.scalar(count.where(Job.company_id == company.id)) == 2
        assert session.scalar(count.where(Job.company_id == other.id)) == 1


def test_a_job_registered_with_container_gets_it(
    container: Container, runner: JobRunner, company: Company
) -> None:
    seen: list[Any] = []

    def needs(session: Session, company: Company, clock: Clock, *, container: Any) -> int:
        seen.append(container)
        return 7

    with PERIODIC.restored():
        job = periodic(f"test.box.{uuid.uuid4().hex[:6]}", every(minutes=15), needs, container=True)
        sched.tick(container, T0, [job])
        runner.drain()
    assert container in seen
    (run,) = _runs(container, company, job.name)
    assert run.status == DONE and run.result is not None and run.result["outcome"] == 7


def _race(holders: list[Lease], now: dt.datetime) -> tuple[list[str], list[BaseException]]:
    """Every holder tries to acquire at once; who won, and what went wrong."""
    barrier = threading.Barrier(len(holders))
    won: list[str] = []
    errors: list[BaseException] = []

    def race(lease: Lease) -> None:
        try:
            barrier.wait(timeout=30)
            if lease.acquire(now):
                won.append(lease.holder)
        except BaseException as exc:  # reported by the caller
            errors.append(exc)

    threads = [threading.Thread(target=race, args=(lease,)) for lease in holders]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return won, errors


def _holder(container: Container, name: str) -> tuple[str | None, dt.datetime | None]:
    with container.session_factory() as session:
        row = session.get(JobLease, name)
        assert row is not None
        return row.holder, row.expires_at


def test_a_run_abandoned_mid_way_is_marked_failed_and_nothing_else_is(
    container: Container, runner: JobRunner, company: Company, job: PeriodicJob
) -> None:
    long_ago, lately = T0 - dt.timedelta(hours=7), T0 - dt.timedelta(hours=1)
    with session_scope(container.session_factory) as session:
        rows = [
            Job(company_id=company.id, kind=job.kind, status="running", started_at=long_ago),
            Job(company_id=company.id, kind=job.kind, status="running", started_at=lately),
            Job(company_id=company.id, kind="kb.ingest", status="running", started_at=long_ago),
        ]
        for row in rows:
            row.payload, row.created_at = {}, row.started_at
        session.add_all(rows)
        session.flush()
        ids = [r.id for r in rows]
    sched.tick(container, T0, [job])
    runner.drain()
    with container.session_factory() as session:
        stale, recent, upload = (session.get(Job, i) for i in ids)
        assert stale is not None and recent is not None and upload is not None
        assert stale.status == FAILED and stale.finished_at is not None
        assert stale.error == "Abandoned: no end 6 h after it started (its process stopped)"
        assert recent.status == "running" and upload.status == "running"


def test_a_busy_database_is_a_warning_and_the_next_tick_runs(
    container: Container, lease_name: str, caplog: pytest.LogCaptureFixture
) -> None:
    """SQLite's one writer held by a long turn: the tick waits for the next one, no traceback."""
    import sqlite3

    from sqlalchemy.exc import OperationalError

    ticks: list[str] = []
    scheduler = Scheduler(container, holder="a", interval=0.01, now=lambda: T0)
    scheduler.lease.name = lease_name

    def tick() -> None:
        ticks.append("tick")
        if len(ticks) == 1:
            raise OperationalError(
                "BEGIN IMMEDIATE", {}, sqlite3.OperationalError("database is locked")
            )
        if len(ticks) == 2:
            raise RuntimeError("a real fault")
        scheduler._stop.set()

    scheduler.tick_once = tick  # type: ignore[method-assign]
    with caplog.at_level("WARNING", logger="companion.jobs.scheduler"):
        scheduler._run()
    assert len(ticks) == 3  # neither the busy database nor the fault stopped the thread
    busy = [r for r in caplog.records if "waited too long" in r.getMessage()]
    assert len(busy) == 1 and busy[0].levelname == "WARNING" and busy[0].exc_info is None
    fault = [r for r in caplog.records if "tick failed" in r.getMessage()]
    assert len(fault) == 1 and fault[0].exc_info is not None
