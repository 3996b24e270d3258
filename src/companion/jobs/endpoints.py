"""HTTP endpoints of background jobs: a job's status and progress."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Path, Query, status
from pydantic import BaseModel

from companion.errors import NotFound, ValidationFailed
from companion.jobs import runner as job_runner
from companion.jobs import service
from companion.jobs.models import STATUSES, Job
from companion.jobs.periodic import PERIODIC, registered, zone
from companion.jobs.scheduler import Scheduler
from companion.kit.fields import Text
from companion.knowledge.schemas import JobAccepted
from companion.tenancy.context import RequestContext
from companion.tenancy.models import Company
from companion.web.deps import ContainerDep, ContextDep, Page, PageDep, SessionDep, require

JOBS_PATH = "/api/v1/ai/jobs"
JobId = Annotated[Text, Path(min_length=1, max_length=64, description="The job's id")]


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Jobs a stopped process never started run now; running ones finish on shutdown.

    In-process, the server also runs the periodic-job scheduler (only the process holding
    the database lease ticks); with Celery, ``companion beat`` does instead.
    """
    container = app.state.container
    job_runner.runner_for(container).resume_queued()
    settings = container.settings.jobs
    scheduler = None
    if settings.backend == "inprocess" and settings.tick_seconds > 0:
        scheduler = Scheduler(container)
        scheduler.start()
    try:
        yield
    finally:
        if scheduler is not None:
            scheduler.stop()
        job_runner.release(container)


router = APIRouter(prefix="/ai/jobs", tags=["jobs"], lifespan=_lifespan)
JobsAdmin = Annotated[RequestContext, Depends(require("ai.admin"))]
PeriodicName = Annotated[Text, Path(min_length=1, max_length=64, description="A periodic job")]


class JobOut(BaseModel):
    """A job's status, progress and outcome."""

    id: str
    kind: str
    status: str
    progress: float
    done_units: int
    total_units: int | None
    message: str | None
    result: dict[str, Any] | None
    error: str | None
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None


def job_out(job: Job) -> JobOut:
    """The API view of a job (its payload stays inside)."""
    return JobOut(
        id=job.id,
        kind=job.kind,
        status=job.status,
        progress=round(job.progress, 4),
        done_units=job.done_units,
        total_units=job.total_units,
        message=job.message,
        result=job.result,
        error=job.error,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
    )


def accepted(job: Job) -> JobAccepted:
    """The 202 body pointing at the job's status."""
    return JobAccepted(job_id=job.id, status=job.status, status_url=f"{JOBS_PATH}/{job.id}")


class PeriodicOut(BaseModel):
    """A registered periodic job as the caller's company sees it."""

    name: str
    schedule: str
    next_run_at: dt.datetime
    last_run: JobOut | None


@router.get("", response_model=Page[JobOut])
def list_jobs(
    session: SessionDep,
    ctx: ContextDep,
    page: PageDep,
    kind: Annotated[Text | None, Query(max_length=64, description="A kind or family")] = None,
    status_: Annotated[
        Text | None,
        Query(alias="status", max_length=16, json_schema_extra={"enum": list(STATUSES)}),
    ] = None,
) -> Page[JobOut]:
    """The caller's jobs, newest first; with ai.admin every job of the company (periodic too)."""
    if status_ is not None and status_ not in STATUSES:
        raise ValidationFailed(
            "Unknown job status", details={"status": status_[:16], "allowed": list(STATUSES)}
        )
    rows, total = service.list_jobs(
        session,
        ctx,
        own_only=not ctx.can("ai.admin"),
        kind=kind,
        status=status_,
        limit=page.limit,
        offset=page.offset,
    )
    return Page(items=[job_out(r) for r in rows], total=total, limit=page.limit, offset=page.offset)


@router.get("/schedule", response_model=list[PeriodicOut])
def list_schedule(
    session: SessionDep, ctx: JobsAdmin, container: ContainerDep
) -> list[PeriodicOut]:
    """Every periodic job: its schedule, next run in the company's time, and its last run."""
    jobs = registered()
    company = session.get(Company, ctx.company_id)
    tz = zone(company.timezone if company is not None else None)
    last = service.latest_runs(session, ctx, [job.kind for job in jobs])
    now = container.clock.now()
    return [
        PeriodicOut(
            name=job.name,
            schedule=job.schedule.describe(),
            next_run_at=job.schedule.next_slot(now, tz),
            last_run=job_out(last[job.kind]) if job.kind in last else None,
        )
        for job in jobs
    ]


@router.post(
    "/schedule/{name}/run", response_model=JobAccepted, status_code=status.HTTP_202_ACCEPTED
)
def run_periodic_now(
    name: PeriodicName, session: SessionDep, ctx: JobsAdmin, container: ContainerDep
) -> JobAccepted:
    """Run a periodic job for the caller's company now (after this request commits)."""
    job = PERIODIC.get(name)
    if job is None:
        raise NotFound("No such periodic job", details={"name": name[:64]})
    row = service.enqueue(
        session,
        ctx,
        job.kind,
        {"name": job.name, "slot": None, "manual": True},
        runner=job_runner.runner_for(container),
    )
    return accepted(row)


@router.get("/{job_id}", response_model=JobOut)
def get_job(session: SessionDep, ctx: ContextDep, job_id: JobId) -> JobOut:
    """A job of the caller's company: its owner sees it, others need kb.read."""
    job = service.get_job(session, ctx, job_id)
    if job is None:
        raise NotFound("No such job", details={"job_id": job_id[:64]})
    if job.user_id != ctx.user_id:
        ctx.require("kb.read")
    return job_out(job)
