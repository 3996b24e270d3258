"""Background jobs on SQLite and PostgreSQL: release after commit, progress, failures, restart.

The runner's threads need their own connections, so these tests use a private database of
each backend with real commits (rows are told apart by a fresh company per test).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from companion.jobs import service
from companion.jobs.models import DONE, FAILED, QUEUED, Job
from companion.jobs.runner import JobRunner
from companion.jobs.service import JobFailed, JobRun
from companion.kit import migrate
from companion.kit.db import make_engine, make_session_factory, session_scope
from companion.tenancy.context import RequestContext
from companion.tenancy.models import Company
from dbutil import new_database_url
from factories import make_company, make_context

WAIT = 60  # seconds; a job here takes milliseconds


@dataclass
class Db:
    engine: Engine
    factory: sessionmaker[Session]


@pytest.fixture(scope="module")
def db(
    backend: str, tmp_path_factory: pytest.TempPathFactory, pg_database_factory: list[str]
) -> Iterator[Db]:
    url = new_database_url(backend, Path(tmp_path_factory.mktemp("jobs")), pg_database_factory)
    engine = make_engine(url)
    migrate.upgrade(engine)
    yield Db(engine, make_session_factory(engine))
    engine.dispose()


@pytest.fixture
def ctx(db: Db) -> RequestContext:
    """An admin of a fresh, committed company."""
    with session_scope(db.factory) as session:
        company = make_company(session, f"co-{uuid.uuid4().hex[:8]}")
        return make_context(session, company, ["admin"])


def _job(db: Db, job_id: str) -> Job:
    with db.factory() as session:
        job = session.get(Job, job_id)
        assert job is not None
        return job


def test_a_job_runs_only_after_the_commit_and_commits_progress_as_it_goes(
    db: Db, ctx: RequestContext
) -> None:
    seen: list[tuple[str, int, float, str | None]] = []

    def count(run: JobRun) -> dict[str, Any]:
        for done in range(1, 6):
            run.progress(done, 5, f"step {done}", share=0.5)
            # Another session (a poller) sees each step: it is committed, not pending.
            job = _job(db, run.job_id)
            seen.append((job.status, job.done_units, job.progress, job.message))
        return {"counted": 5}

    runner = JobRunner(db.factory, {"count": count})
    try:
        with db.factory() as session:
            job = service.enqueue(session, ctx, "count", {"n": 5}, runner=runner)
            job_id = job.id
            assert runner.wait(job_id) is None  # not handed over before the commit
            session.commit()
        assert runner.wait(job_id, timeout=WAIT) == DONE
    finally:
        runner.shutdown()
    assert seen == [("running", d, pytest.approx(d / 10), f"step {d}") for d in range(1, 6)]
    job = _job(db, job_id)
    assert (job.status, job.progress, job.done_units, job.total_units) == (DONE, 1.0, 5, 5)
    assert job.result == {"counted": 5} and job.error is None
    assert job.company_id == ctx.company_id and job.user_id == ctx.user_id
    assert job.started_at is not None and job.finished_at is not None
    assert job.created_at <= job.started_at <= job.finished_at
    # A job runs once: a second attempt finds it no longer queued.
    assert service.run_job(db.factory, job_id, {"count": count}) is None
    assert len(seen) == 5


def test_a_rolled_back_request_leaves_no_job_and_runs_nothing(db: Db, ctx: RequestContext) -> None:
    ran: list[str] = []
    runner = JobRunner(db.factory, {"note": lambda run: ran.append(run.job_id) or {}}, workers=0)
    with db.factory() as session:
        job_id = service.enqueue(session, ctx, "note", {}, runner=runner).id
        session.rollback()
    assert runner.drain() == [] and ran == []
    with db.factory() as session:
        assert session.get(Job, job_id) is None


def test_failures_are_stored_with_their_message_and_the_work_is_undone(
    db: Db, ctx: RequestContext
) -> None:
    slug = f"half-{uuid.uuid4().hex[:8]}"

    def refuse(run: JobRun) -> dict[str, Any]:
        run.progress(1, 4, "read page 1 of 4")
        make_company(run.writing(), slug)  # written, then the job fails: rolled back
        raise JobFailed("The PDF is damaged and cannot be read (after 1 pages)")

    def crash(run: JobRun) -> dict[str, Any]:
        raise RuntimeError("boom")

    handlers = {"refuse": refuse, "crash": crash}
    runner = JobRunner(db.factory, handlers, workers=0)
    with session_scope(db.factory) as session:
        ids = [service.enqueue(session, ctx, kind, {}, runner=runner).id for kind in handlers]
        unknown = service.enqueue(session, ctx, "no-such-kind", {}, runner=runner).id
    assert runner.drain() == [FAILED, FAILED, FAILED]
    refused, crashed, nameless = (_job(db, i) for i in [*ids, unknown])
    assert refused.error == "The PDF is damaged and cannot be read (after 1 pages)"
    assert refused.message == refused.error and refused.done_units == 1
    assert refused.finished_at is not None and refused.result is None
    assert crashed.status == FAILED
    assert crashed.error == "The job stopped on an internal error (RuntimeError)"
    assert nameless.error == "No handler for jobs of kind 'no-such-kind'"
    with db.factory() as session:
        count = select(func.count()).select_from(Company).where(Company.slug == slug)
        assert session.scalar(count) == 0


def test_queued_jobs_resume_when_a_new_runner_starts(db: Db, ctx: RequestContext) -> None:
    done: list[str] = []

    def note(run: JobRun) -> dict[str, Any]:
        done.append(run.job_id)
        return {"ok": True}

    stopped = JobRunner(db.factory, {"note": note}, workers=0)
    with session_scope(db.factory) as session:
        ids = [service.enqueue(session, ctx, "note", {"i": i}, runner=stopped).id for i in range(3)]
    # The process stops before running them (the held ids are lost with it).
    assert [_job(db, i).status for i in ids] == [QUEUED] * 3
    restarted = JobRunner(db.factory, {"note": note}, workers=2)
    try:
        resumed = restarted.resume_queued()
        assert set(ids) <= set(resumed)
        assert [restarted.wait(i, timeout=WAIT) for i in ids] == [DONE] * 3
    finally:
        restarted.shutdown()
    assert sorted(done) == sorted(ids)
    assert all(_job(db, i).result == {"ok": True} for i in ids)
    assert stopped.drain() == [None, None, None]  # already done: not run twice
    assert sorted(done) == sorted(ids)


def test_another_companys_job_is_invisible(session: Session) -> None:
    acme, globex = make_company(session, "acme"), make_company(session, "globex")
    own, other = make_context(session, acme, ["admin"]), make_context(session, globex, ["admin"])
    job = service.enqueue(session, own, "note", {"secret": "Uttara"})
    assert service.get_job(session, own, job.id) is job
    assert service.get_job(session, other, job.id) is None
    assert service.get_job(session, own, "no-such-job") is None
