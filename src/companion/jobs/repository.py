"""All SQL of the jobs package."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from companion.jobs.models import QUEUED, Job
from companion.tenancy.context import RequestContext, scoped


def get_for(session: Session, ctx: RequestContext, job_id: str) -> Job | None:
    """The caller's company's job, or None (another company's job is None too)."""
    stmt = scoped(select(Job).where(Job.id == job_id), Job, ctx)
    return session.scalars(stmt).first()


def get(session: Session, job_id: str) -> Job | None:
    """A job by id, whatever its company (the runner's own reads)."""
    return session.get(Job, job_id)


def queued_ids(session: Session) -> list[str]:
    """Ids of the jobs still waiting to run, oldest first."""
    stmt = select(Job.id).where(Job.status == QUEUED).order_by(Job.created_at, Job.id)
    return list(session.scalars(stmt))
