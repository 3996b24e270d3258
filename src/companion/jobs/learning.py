"""The NLU retrain job: a company's model trained, gated and promoted or refused outside the
request (about a minute of CPU on a loaded machine).

The request checks there is something to train (409 ``nothing_to_train`` at once), then
queues one ``learning.retrain`` job and answers 202 with its id. A company has at most one
retrain queued or running: the job holds the run key ``learning.retrain@active`` (unique per
company in the database) until it ends, so a second request, even at the same instant,
gets 409 ``retrain_running`` naming the job in progress. The job re-reads the approved
corrections when it starts, trains with no transaction open (SQLite has one writer), then
records the model row with its before/after figures in the transaction that marks it done.
"""

from __future__ import annotations

import datetime as dt
from functools import partial
from typing import Any

from sqlalchemy.orm import Session

from companion.assistant.learning import retrain
from companion.auth import repository as auth_repo
from companion.auth.service import context_for_user
from companion.bootstrap import Container
from companion.jobs import repository as repo
from companion.jobs.models import QUEUED, Job, new_job_id
from companion.jobs.runner import runner_for
from companion.jobs.service import JobFailed, JobRun
from companion.kit.after_commit import after_commit
from companion.kit.db import utcnow
from companion.tenancy.context import RequestContext
from companion.tenancy.models import Company

KIND = "learning.retrain"
RUN_KEY = f"{KIND}@active"
# A retrain still "running" this long after it started was abandoned (its process stopped):
# the next request marks it failed and queues a new one.
ABANDONED_AFTER = dt.timedelta(hours=1)


def check_retrain(session: Session, ctx: RequestContext, container: Container) -> None:
    """Raise ``NothingToTrain`` (409) now, not as a failed job later, when the approved
    corrections give nothing new to train on (reads only)."""
    retrain.plan(session, ctx, container.company_models())


def queue_retrain(session: Session, ctx: RequestContext, container: Container) -> Job:
    """Queue the company's retrain (it starts after the caller's commit); the job.

    Raises ``RetrainBusy`` (409, naming the job) when a retrain of the company is queued or
    running; ``check_retrain`` first answers "nothing to train" without a job.
    """
    ctx.require(retrain.PERMISSION)
    hours = int(ABANDONED_AFTER.total_seconds() // 3600)
    repo.release_exclusive_key(
        session,
        ctx,
        RUN_KEY,
        utcnow() - ABANDONED_AFTER,
        f"Abandoned: no end {hours} h after it started (its process stopped)",
    )
    job = Job(
        id=new_job_id(),
        company_id=ctx.company_id,
        user_id=ctx.user_id,
        kind=KIND,
        status=QUEUED,
        progress=0.0,
        done_units=0,
        payload={},
        message="Waiting to start",
        created_at=utcnow(),
        run_key=RUN_KEY,
    )
    if not repo.add_exclusive(session, job):
        running = repo.active_of_kind(session, ctx, KIND)
        raise retrain.RetrainBusy(
            "A retrain of this company is already queued or running",
            details={"job_id": running.id if running is not None else None},
        )
    runner = runner_for(container)
    after_commit(
        session,
        partial(runner.submit, job.id),
        failure=f"handing job {job.id} to the runner failed",
    )
    return job


def active_retrain(session: Session, ctx: RequestContext) -> Job | None:
    """The company's retrain queued or running now, if any."""
    return repo.active_of_kind(session, ctx, KIND)


def retrain_job(container: Container, run: JobRun) -> dict[str, Any]:
    """The ``learning.retrain`` job: plan, train and gate, then record (promote or refuse)."""
    models = container.company_models()
    lock = models.training_lock(run.company_id)
    if not lock.acquire(blocking=False):  # the CLI's synchronous retrain, in this process
        raise retrain.RetrainBusy("A retrain of this company is already running")
    try:
        with run.reading() as session:
            ctx = _reviewer(session, run)
            planned = retrain.plan(session, ctx, models)
        run.progress(1, 3, f"Training on {len(planned.pairs)} approved corrections")
        outcome = retrain.train_and_gate(
            models, planned, tolerance=container.settings.learning.gate_tolerance
        )
        run.progress(2, 3, "Recording the model and the gate's figures")
        session = run.writing()
        model = retrain.record(session, ctx, models, planned, outcome)
        job = repo.get(session, run.job_id)
        if job is not None:
            job.run_key = None  # the next retrain may be queued once this commits
    finally:
        lock.release()
    gate = model.gate
    return {
        "version": model.version,
        "status": model.status,
        "promoted": model.status == "active",
        "reasons": gate.get("reasons", []),
        "heldout": _figures(gate.get("heldout")),
        "company": _figures(gate.get("company")),
        "shipped": _figures(gate.get("shipped")),
        "corrections": len(planned.pairs),
        "train_seconds": model.train_seconds,
    }


def _figures(part: Any) -> dict[str, Any]:
    if not isinstance(part, dict):
        return {}
    keys = ("before", "after", "count", "fixed", "broken")
    return {k: part[k] for k in keys if k in part}


def _reviewer(session: Session, run: JobRun) -> RequestContext:
    """The requester's context today (a reviewer who lost ``ai.review`` cannot go on)."""
    user = auth_repo.get_user(session, run.user_id) if run.user_id is not None else None
    company = session.get(Company, run.company_id)
    if user is None or company is None:
        raise JobFailed("The user who asked for the retrain no longer exists")
    return context_for_user(session, user.username, company.slug)
