"""All SQL of the jobs package."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from companion.jobs.models import DONE, FAILED, QUEUED, RUNNING, Job, JobLease
from companion.kit.db import utcnow
from companion.tenancy.context import RequestContext, in_company, scoped
from companion.tenancy.models import Company


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


def list_for(
    session: Session,
    ctx: RequestContext,
    *,
    user_id: int | None,
    kind: str | None,
    status: str | None,
    limit: int,
    offset: int,
) -> tuple[list[Job], int]:
    """The company's jobs (only ``user_id``'s when given), newest first, and their count.

    ``kind`` matches a kind exactly or a family: ``periodic`` matches ``periodic:jobs.prune``.
    """
    stmt = scoped(select(Job), Job, ctx)
    if user_id is not None:
        stmt = stmt.where(Job.user_id == user_id)
    if kind is not None:
        stmt = stmt.where(or_(Job.kind == kind, Job.kind.startswith(f"{kind}:", autoescape=True)))
    if status is not None:
        stmt = stmt.where(Job.status == status)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(
        stmt.order_by(Job.created_at.desc(), Job.id).limit(limit).offset(offset)
    ).all()
    return list(rows), total


def latest_by_kind(session: Session, ctx: RequestContext, kinds: Collection[str]) -> dict[str, Job]:
    """The company's most recent job of each of ``kinds``."""
    if not kinds:
        return {}
    newest = (
        scoped(select(Job.kind, func.max(Job.created_at).label("at")), Job, ctx)
        .where(Job.kind.in_(list(kinds)))
        .group_by(Job.kind)
        .subquery()
    )
    stmt = scoped(
        select(Job).join(newest, (Job.kind == newest.c.kind) & (Job.created_at == newest.c.at)),
        Job,
        ctx,
    )
    return {job.kind: job for job in session.scalars(stmt)}


def active_of_kind(session: Session, ctx: RequestContext, kind: str) -> Job | None:
    """The company's oldest queued or running job of ``kind`` (one-at-a-time jobs)."""
    stmt = scoped(select(Job), Job, ctx).where(Job.kind == kind, Job.status.in_((QUEUED, RUNNING)))
    return session.scalars(stmt.order_by(Job.created_at, Job.id).limit(1)).first()


def release_exclusive_key(
    session: Session, ctx: RequestContext, key: str, stale_before: dt.datetime, message: str
) -> None:
    """Free the company's one-at-a-time ``key`` from finished jobs; a job running since
    before ``stale_before`` was abandoned (its process stopped) and is marked failed."""
    mine = in_company(Job, ctx)
    session.execute(
        update(Job)
        .where(mine, Job.run_key == key, Job.status == RUNNING, Job.started_at < stale_before)
        .values(status=FAILED, error=message, message=message[:500], finished_at=utcnow())
    )
    session.execute(
        update(Job)
        .where(mine, Job.run_key == key, Job.status.in_((DONE, FAILED)))
        .values(run_key=None)
    )


def add_exclusive(session: Session, job: Job) -> bool:
    """Insert ``job`` (its ``run_key`` set); False when another job of the company holds the
    key (the database's unique key decides, so two requests at once add one job)."""
    try:
        with session.begin_nested():
            session.add(job)
            session.flush()
    except IntegrityError:
        return False
    return True


# --- periodic runs ------------------------------------------------------------------------


def active_companies(session: Session) -> list[Company]:
    """Every active company (periodic jobs run for each), by id."""
    return list(session.scalars(select(Company).where(Company.is_active).order_by(Company.id)))


def taken_run_keys(session: Session, keys: Collection[str]) -> set[tuple[int, str]]:
    """Which of ``keys`` have a run already, as (company id, key)."""
    if not keys:
        return set()
    stmt = select(Job.company_id, Job.run_key).where(Job.run_key.in_(list(keys)))
    return {(company_id, key) for company_id, key in session.execute(stmt) if key is not None}


def add_runs(session: Session, jobs: list[Job]) -> list[Job]:
    """Insert periodic runs; those whose run key another scheduler took meanwhile are skipped.

    All at once first (one savepoint); only if one clashes, one by one.
    """
    if not jobs:
        return []
    try:
        with session.begin_nested():
            session.add_all(jobs)
            session.flush()
        return jobs
    except IntegrityError:
        pass
    added = []
    for job in [Job(**_columns(j)) for j in jobs]:
        try:
            with session.begin_nested():
                session.add(job)
                session.flush()
        except IntegrityError:
            continue
        added.append(job)
    return added


def _columns(job: Job) -> dict[str, object]:
    """A fresh copy's column values (the rolled-back instances are not reused)."""
    return {c.key: getattr(job, c.key) for c in Job.__table__.columns}


def fail_abandoned(
    session: Session, kind_prefix: str, started_before: dt.datetime, message: str
) -> int:
    """Mark runs of ``kind_prefix:*`` still running since before ``started_before`` failed."""
    result = session.execute(
        update(Job)
        .where(
            Job.kind.startswith(f"{kind_prefix}:", autoescape=True),
            Job.status == RUNNING,
            Job.started_at < started_before,
        )
        .values(status=FAILED, error=message, message=message[:500], finished_at=utcnow())
    )
    return int(getattr(result, "rowcount", 0) or 0)


def delete_finished_before(session: Session, company_id: int, before: dt.datetime) -> int:
    """Delete one company's done and failed jobs that finished before ``before``; the count."""
    result = session.execute(
        delete(Job).where(
            Job.company_id == company_id,
            Job.status.in_((DONE, FAILED)),
            Job.finished_at < before,
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)


# --- the scheduler's lease ----------------------------------------------------------------


def ensure_lease(session: Session, name: str) -> None:
    """Make the lease's row if it is missing (free: no holder)."""
    if session.get(JobLease, name) is not None:
        return
    try:
        with session.begin_nested():
            session.add(JobLease(name=name))
            session.flush()
    except IntegrityError:
        pass  # another process made it first: the row exists, which is all we need


def renew_lease(
    session: Session, name: str, holder: str, now: dt.datetime, until: dt.datetime
) -> bool:
    """Extend ``holder``'s unexpired lease to ``until``; False if it is not theirs now."""
    result = session.execute(
        update(JobLease)
        .where(JobLease.name == name, JobLease.holder == holder, JobLease.expires_at >= now)
        .values(expires_at=until)
    )
    return getattr(result, "rowcount", 0) == 1


def take_lease(
    session: Session, name: str, holder: str, now: dt.datetime, until: dt.datetime
) -> bool:
    """Take a free or expired lease for ``holder`` (one conditional UPDATE: one winner)."""
    result = session.execute(
        update(JobLease)
        .where(
            JobLease.name == name,
            or_(
                JobLease.holder.is_(None), JobLease.expires_at.is_(None), JobLease.expires_at < now
            ),
        )
        .values(holder=holder, acquired_at=now, expires_at=until)
    )
    return getattr(result, "rowcount", 0) == 1


def free_lease(session: Session, name: str, holder: str) -> bool:
    """Give ``holder``'s lease up (another process may take it at once)."""
    result = session.execute(
        update(JobLease)
        .where(JobLease.name == name, JobLease.holder == holder)
        .values(holder=None, expires_at=None)
    )
    return getattr(result, "rowcount", 0) == 1


def lease(session: Session, name: str) -> JobLease | None:
    """The lease's row as it stands."""
    return session.get(JobLease, name)
