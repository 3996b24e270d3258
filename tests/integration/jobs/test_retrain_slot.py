"""One NLU retrain per company at a time, decided by the database: the job's run key
``learning.retrain@active`` is unique per company, so two requests at the same instant add
one job; a finished job lets go of it, and one abandoned while running is failed.

A private database of each backend with real commits (two sessions must really race).
"""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from companion.jobs import repository as repo
from companion.jobs.learning import KIND, RUN_KEY
from companion.jobs.models import DONE, FAILED, QUEUED, RUNNING, Job, new_job_id
from companion.kit import migrate
from companion.kit.db import begin_for_writing, make_engine, make_session_factory, utcnow
from companion.tenancy.context import RequestContext
from dbutil import new_database_url
from factories import make_company, make_context


@pytest.fixture(scope="module")
def factory(
    backend: str, tmp_path_factory: pytest.TempPathFactory, pg_database_factory: list[str]
) -> Iterator[sessionmaker[Session]]:
    url = new_database_url(backend, Path(tmp_path_factory.mktemp("slot")), pg_database_factory)
    engine = make_engine(url)
    migrate.upgrade(engine)
    yield make_session_factory(engine)
    engine.dispose()


def admin(factory: sessionmaker[Session]) -> RequestContext:
    with factory() as session:
        company = make_company(session, f"co-{uuid.uuid4().hex[:8]}")
        ctx = make_context(session, company, ["admin"])
        session.commit()
    return ctx


def retrain_job(ctx: RequestContext) -> Job:
    return Job(
        id=new_job_id(),
        company_id=ctx.company_id,
        user_id=ctx.user_id,
        kind=KIND,
        status=QUEUED,
        progress=0.0,
        done_units=0,
        payload={},
        created_at=utcnow(),
        run_key=RUN_KEY,
    )


def queue(factory: sessionmaker[Session], ctx: RequestContext) -> bool:
    """What the request does: free finished holders, then try to add the job."""
    with factory() as session:
        begin_for_writing(session)
        repo.release_exclusive_key(session, ctx, RUN_KEY, utcnow() - dt.timedelta(hours=1), "x")
        added = repo.add_exclusive(session, retrain_job(ctx))
        session.commit()
    return added


def set_status(factory: sessionmaker[Session], ctx: RequestContext, **values: object) -> None:
    with factory() as session:
        begin_for_writing(session)
        job = repo.active_of_kind(session, ctx, KIND)
        assert job is not None
        for key, value in values.items():
            setattr(job, key, value)
        session.commit()


def test_a_second_retrain_waits_for_the_first_and_other_companies_do_not(
    factory: sessionmaker[Session],
) -> None:
    acme, globex = admin(factory), admin(factory)
    assert queue(factory, acme) is True
    assert queue(factory, acme) is False
    assert queue(factory, globex) is True  # the key is per company
    set_status(factory, acme, status=DONE, finished_at=utcnow())
    assert queue(factory, acme) is True  # a finished job lets go of it


def test_a_retrain_abandoned_while_running_is_failed_and_frees_the_company(
    factory: sessionmaker[Session],
) -> None:
    acme = admin(factory)
    assert queue(factory, acme) is True
    set_status(factory, acme, status=RUNNING, started_at=utcnow() - dt.timedelta(minutes=5))
    assert queue(factory, acme) is False  # running for 5 minutes: still going
    set_status(factory, acme, started_at=utcnow() - dt.timedelta(hours=2))
    assert queue(factory, acme) is True
    with factory() as session:
        jobs = session.query(Job).filter(Job.company_id == acme.company_id).all()
        assert sorted(j.status for j in jobs) == [FAILED, QUEUED]


def test_two_requests_at_the_same_instant_add_one_job(factory: sessionmaker[Session]) -> None:
    acme = admin(factory)
    start = threading.Barrier(2)
    results: list[bool] = []

    def request() -> None:
        start.wait()
        results.append(queue(factory, acme))

    threads = [threading.Thread(target=request) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(results) == [False, True]
    with factory() as session:
        assert session.query(Job).filter(Job.company_id == acme.company_id).count() == 1
