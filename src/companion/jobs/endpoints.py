"""HTTP endpoints of background jobs: a job's status and progress."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Path
from pydantic import BaseModel

from companion.errors import NotFound
from companion.jobs import runner as job_runner
from companion.jobs import service
from companion.jobs.models import Job
from companion.kit.fields import Text
from companion.knowledge.schemas import JobAccepted
from companion.web.deps import ContextDep, SessionDep

JOBS_PATH = "/api/v1/ai/jobs"
JobId = Annotated[Text, Path(min_length=1, max_length=64, description="The job's id")]


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Jobs a stopped process never started run now; running ones finish on shutdown."""
    container = app.state.container
    job_runner.runner_for(container).resume_queued()
    try:
        yield
    finally:
        job_runner.release(container)


router = APIRouter(prefix="/ai/jobs", tags=["jobs"], lifespan=_lifespan)


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


@router.get("/{job_id}", response_model=JobOut)
def get_job(session: SessionDep, ctx: ContextDep, job_id: JobId) -> JobOut:
    """A job of the caller's company: its owner sees it, others need kb.read."""
    job = service.get_job(session, ctx, job_id)
    if job is None:
        raise NotFound("No such job", details={"job_id": job_id[:64]})
    if job.user_id != ctx.user_id:
        ctx.require("kb.read")
    return job_out(job)
