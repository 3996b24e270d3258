"""Enqueueing jobs and running one: progress committed as it goes, failures stored.

A job is a row first: ``enqueue`` adds it to the caller's unit of work, and only once that
commits is the id handed to the runner (a rolled-back request leaves no job to run). A
job's outcome is written in the same transaction as its work, so a document and the job
saying "done" appear together; a failure is stored on the job, never raised to the web.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Protocol

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from companion.errors import CompanionError
from companion.jobs import repository as repo
from companion.jobs.models import DONE, FAILED, QUEUED, RUNNING, Job, new_job_id
from companion.kit import telemetry
from companion.kit.after_commit import after_commit
from companion.kit.clock import Clock
from companion.kit.db import begin_for_writing, utcnow
from companion.tenancy.context import RequestContext
from companion.tenancy.models import Company

log = logging.getLogger(__name__)

# Progress is committed when it moved by at least this much (or at the last unit).
PROGRESS_STEP = 0.01
# Finished jobs (uploads' and periodic runs') are kept this long, then pruned.
RETAIN_DAYS = 30


class Submitter(Protocol):
    """What takes a committed job's id and runs it (the in-process runner)."""

    def submit(self, job_id: str) -> None: ...


@dataclass
class JobRun:
    """A running job as its handler sees it: its fields, progress and a writing session."""

    job_id: str
    company_id: int
    user_id: int | None
    kind: str
    payload: dict[str, Any]
    session_factory: sessionmaker[Session]
    _write: Session | None = field(default=None, repr=False)
    _reported: float = field(default=-1.0, repr=False)

    def progress(
        self,
        done: int,
        total: int | None,
        message: str | None = None,
        *,
        share: float = 1.0,
        start: float = 0.0,
    ) -> None:
        """Record ``done`` of ``total`` units in its own short transaction (pollers see it).

        ``share`` is the part of the whole job these units stand for, ``start`` the part
        done before them (a later phase counts its own units).
        """
        fraction = start + share * min(1.0, done / total) if total else start
        if fraction - self._reported < PROGRESS_STEP and done != total:
            return
        self._reported = fraction
        values: dict[str, Any] = {"done_units": done, "total_units": total, "progress": fraction}
        if message is not None:
            values["message"] = message[:500]
        with self.session_factory() as session:
            session.execute(update(Job).where(Job.id == self.job_id).values(**values))
            session.commit()

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A short session for reads before the work starts (closed at the end)."""
        with self.session_factory() as session:
            yield session

    def writing(self) -> Session:
        """The session the job's changes go in; it commits with the job marked done."""
        if self._write is None:
            self._write = self.session_factory()
            begin_for_writing(self._write)
        return self._write


Handler = Callable[[JobRun], dict[str, Any]]


class JobFailed(CompanionError):
    """A job cannot go on; its message is what the job's status shows."""

    status_code = 422
    code = "job_failed"


def enqueue(
    session: Session,
    ctx: RequestContext,
    kind: str,
    payload: Mapping[str, Any],
    *,
    runner: Submitter | None = None,
    job_id: str | None = None,
) -> Job:
    """Add a queued job of the caller's company; ``runner`` gets it once the session commits."""
    job = Job(
        id=job_id or new_job_id(),
        company_id=ctx.company_id,
        user_id=ctx.user_id,
        kind=kind,
        status=QUEUED,
        progress=0.0,
        done_units=0,
        payload=dict(payload),
        message="Waiting to start",
        created_at=utcnow(),
    )
    session.add(job)
    session.flush()
    if runner is not None:
        # A failed hand-over leaves the job queued: resume_queued starts it later.
        after_commit(
            session,
            partial(runner.submit, job.id),
            failure=f"handing job {job.id} to the runner failed",
        )
    return job


def get_job(session: Session, ctx: RequestContext, job_id: str) -> Job | None:
    """The caller's company's job (None for a missing one or another company's)."""
    return repo.get_for(session, ctx, job_id)


def list_jobs(
    session: Session,
    ctx: RequestContext,
    *,
    own_only: bool,
    kind: str | None,
    status: str | None,
    limit: int,
    offset: int,
) -> tuple[list[Job], int]:
    """The company's jobs (only the caller's with ``own_only``), newest first; the count."""
    return repo.list_for(
        session,
        ctx,
        user_id=ctx.user_id if own_only else None,
        kind=kind,
        status=status,
        limit=limit,
        offset=offset,
    )


def latest_runs(session: Session, ctx: RequestContext, kinds: list[str]) -> dict[str, Job]:
    """The company's latest job of each kind (the schedule page's "last run")."""
    return repo.latest_by_kind(session, ctx, kinds)


# --- running ------------------------------------------------------------------------------


def _claim(factory: sessionmaker[Session], job_id: str) -> JobRun | None:
    """Mark a queued job running (only one runner wins); None if it is not queued."""
    with factory() as session:
        begin_for_writing(session)
        claimed = session.execute(
            update(Job)
            .where(Job.id == job_id, Job.status == QUEUED)
            .values(status=RUNNING, started_at=utcnow(), message="Started")
        )
        if getattr(claimed, "rowcount", 0) != 1:
            session.rollback()
            return None
        job = repo.get(session, job_id)
        assert job is not None
        run = JobRun(
            job_id=job.id,
            company_id=job.company_id,
            user_id=job.user_id,
            kind=job.kind,
            payload=dict(job.payload or {}),
            session_factory=factory,
        )
        session.commit()
    return run


def run_job(
    factory: sessionmaker[Session], job_id: str, handlers: Mapping[str, Handler]
) -> str | None:
    """Run one queued job in its own sessions; returns its final status (None: not queued)."""
    run = _claim(factory, job_id)
    if run is None:
        return None
    # A kind "family:detail" (periodic:alerts.scan) falls back to its family's handler.
    handler = handlers.get(run.kind) or handlers.get(run.kind.partition(":")[0])
    try:
        if handler is None:
            raise JobFailed(f"No handler for jobs of kind '{run.kind}'")
        result = handler(run)
        session = run.writing()
        job = repo.get(session, job_id)
        assert job is not None
        job.status, job.result, job.error = DONE, result, None
        job.progress = 1.0
        job.done_units = job.total_units if job.total_units is not None else job.done_units
        job.message = "Done"
        job.finished_at = utcnow()
        session.commit()
        telemetry.tally("job_runs", kind=run.kind, status=DONE)
        return DONE
    except CompanionError as exc:
        _abandon(run)
        _fail(factory, job_id, exc.message)
    except Exception as exc:  # a process boundary: the job fails, the runner goes on
        log.exception("job %s (%s) failed", job_id, run.kind)
        _abandon(run)
        _fail(factory, job_id, f"The job stopped on an internal error ({type(exc).__name__})")
    finally:
        if run._write is not None:
            run._write.close()
    telemetry.tally("job_runs", kind=run.kind, status=FAILED)
    return FAILED


def _abandon(run: JobRun) -> None:
    if run._write is not None:
        run._write.rollback()


def _fail(factory: sessionmaker[Session], job_id: str, message: str) -> None:
    with factory() as session:
        begin_for_writing(session)
        session.execute(
            update(Job)
            .where(Job.id == job_id)
            .values(status=FAILED, error=message, message=message[:500], finished_at=utcnow())
        )
        session.commit()


def queued_job_ids(factory: sessionmaker[Session]) -> list[str]:
    """The jobs waiting to run (after a restart: those the last process never started)."""
    with factory() as session:
        return repo.queued_ids(session)


def prune_finished(session: Session, company: Company, clock: Clock) -> dict[str, int]:
    """Delete the company's jobs that finished more than RETAIN_DAYS ago (a periodic job)."""
    before = clock.now() - dt.timedelta(days=RETAIN_DAYS)
    return {"deleted": repo.delete_finished_before(session, company.id, before)}
