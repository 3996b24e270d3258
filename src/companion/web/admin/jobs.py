"""Jobs: the periodic jobs with their next and last runs, recent runs, and "run now"."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Query, Request
from starlette.responses import RedirectResponse, Response

from companion.errors import NotFound
from companion.jobs import runner as job_runner
from companion.jobs import service as jobs
from companion.jobs.models import STATUSES
from companion.jobs.periodic import PERIODIC, registered, zone
from companion.tenancy.models import Company
from companion.web.admin.base import (
    SECURITY_HEADERS,
    AdminPage,
    AdminRoute,
    CsrfChecked,
    page_for,
    render,
)
from companion.web.admin.forms import PAGE_SIZE, Paging, choice
from companion.web.deps import ContainerDep, SessionDep

router = APIRouter(prefix="/admin/{company}", route_class=AdminRoute, include_in_schema=False)
JobsAdmin = Annotated[AdminPage, page_for("ai.admin")]


@router.get("/jobs")
def jobs_page(
    request: Request,
    page: JobsAdmin,
    session: SessionDep,
    container: ContainerDep,
    status: Annotated[str, Query(max_length=16)] = "",
    p: Annotated[int, Query(ge=1, le=100_000)] = 1,
    notice: Annotated[str, Query(max_length=16)] = "",
) -> Response:
    """Each periodic job's schedule, next and last run here, and the company's recent jobs."""
    wanted = choice(status, "status", frozenset(STATUSES))
    periodic = registered()
    company = session.get(Company, page.ctx.company_id)
    tz = zone(company.timezone if company is not None else None)
    last = jobs.latest_runs(session, page.ctx, [job.kind for job in periodic])
    now = container.clock.now()
    schedule = [
        {
            "name": job.name,
            "schedule": job.schedule.describe(),
            "next": job.schedule.next_slot(now, tz),
            "last": last.get(job.kind),
        }
        for job in periodic
    ]
    rows, total = jobs.list_jobs(
        session,
        page.ctx,
        own_only=False,
        kind=None,
        status=wanted,
        limit=PAGE_SIZE,
        offset=(p - 1) * PAGE_SIZE,
    )
    return render(
        request,
        "jobs.html",
        page,
        title="Jobs",
        section="jobs",
        schedule=schedule,
        rows=rows,
        statuses=sorted(STATUSES),
        status=status,
        backend=container.settings.jobs.backend,
        paging=Paging(p, total),
        query=urlencode({"status": status}),
        notice={"queued": "Queued: it runs in a moment."}.get(notice),
    )


@router.post("/jobs/{name}/run", dependencies=[CsrfChecked])
def run_now(
    page: JobsAdmin,
    session: SessionDep,
    container: ContainerDep,
    name: Annotated[str, Path(min_length=1, max_length=64)],
) -> Response:
    """Queue one periodic job for this company now (it runs after this request commits)."""
    job = PERIODIC.get(name)
    if job is None:
        raise NotFound("No such periodic job", details={"name": name[:64]})
    jobs.enqueue(
        session,
        page.ctx,
        job.kind,
        {"name": job.name, "slot": None, "manual": True},
        runner=job_runner.runner_for(container),
    )
    return RedirectResponse(
        f"/admin/{page.ctx.company_slug}/jobs?notice=queued", 303, headers=SECURITY_HEADERS
    )
