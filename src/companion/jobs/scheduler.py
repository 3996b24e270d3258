"""The periodic-job scheduler: due runs become jobs, one scheduler per deployment.

``plan_due`` is one tick: for every registered periodic job and active company, the run of
the current slot is added as a queued job unless its run key exists (so a tick seen twice
adds nothing). ``tick`` does that in its own transaction and hands the new runs to the
container's runner once it commits (threads in-process, Celery workers at scale).

Embedded, the server runs a ``Scheduler`` thread; several server processes may run one
each, but only the holder of the database lease ``scheduler`` ticks. The lease is a row
(holder, expiry) taken by one conditional UPDATE (the free or expired lease goes to exactly
one process), renewed every tick, given up on shutdown, and taken over by another process
once it has run out. With Celery, ``companion beat`` sends the tick instead.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from companion.bootstrap import Container
from companion.jobs import repository as repo
from companion.jobs.models import QUEUED, Job, new_job_id
from companion.jobs.periodic import KIND_PREFIX, PERIODIC, PeriodicJob, registered, run_key, zone
from companion.jobs.service import JobFailed, JobRun
from companion.kit.after_commit import after_commit
from companion.kit.db import begin_for_writing, is_lock_timeout, session_scope, utcnow
from companion.kit.jsonable import jsonable
from companion.tenancy.models import Company

log = logging.getLogger(__name__)

LEASE = "scheduler"
# A periodic run still "running" this long after it started was abandoned (its worker or
# server died mid-run; its writes were rolled back with it): it is marked failed, and the
# next slot runs as usual.
ABANDONED_AFTER = dt.timedelta(hours=6)


def plan_due(
    session: Session, now: dt.datetime, jobs: Sequence[PeriodicJob] | None = None
) -> list[str]:
    """Add the queued runs due at ``now`` that no one added yet; their job ids."""
    jobs = registered() if jobs is None else jobs
    companies = repo.active_companies(session)
    wanted: list[tuple[Company, PeriodicJob, dt.datetime, str]] = []
    for job in jobs:
        for company in companies:
            slot = job.schedule.slot(now, zone(company.timezone))
            wanted.append((company, job, slot, run_key(job.name, slot)))
    taken = repo.taken_run_keys(session, {key for *_, key in wanted})
    rows: list[Job] = []
    for company, job, slot, key in wanted:
        if (company.id, key) in taken:
            continue
        rows.append(
            Job(
                id=new_job_id(),
                company_id=company.id,
                user_id=None,
                kind=job.kind,
                status=QUEUED,
                progress=0.0,
                done_units=0,
                payload={"name": job.name, "slot": slot.isoformat()},
                message=f"Due {slot:%Y-%m-%d %H:%M} UTC",
                created_at=now,
                run_key=key,
            )
        )
    return [row.id for row in repo.add_runs(session, rows)]


def tick(
    container: Container,
    now: dt.datetime | None = None,
    jobs: Sequence[PeriodicJob] | None = None,
) -> list[str]:
    """One tick in its own transaction; the new runs go to the runner after the commit.

    ``jobs``: every registered periodic job when None.
    """
    runner = container.job_runner()
    now = now or utcnow()
    with session_scope(container.session_factory) as session:
        begin_for_writing(session)
        hours = int(ABANDONED_AFTER.total_seconds() // 3600)
        abandoned = repo.fail_abandoned(
            session,
            KIND_PREFIX,
            now - ABANDONED_AFTER,
            f"Abandoned: no end {hours} h after it started (its process stopped)",
        )
        if abandoned:
            log.warning("periodic runs abandoned", extra={"runs": abandoned})
        added = plan_due(session, now, jobs)
        for job_id in added:
            after_commit(
                session,
                partial(runner.submit, job_id),
                failure=f"handing periodic run {job_id} to the runner failed",
            )
    if added:
        log.info("periodic runs due", extra={"runs": len(added)})
    return added


def run_periodic(container: Container, run: JobRun) -> dict[str, Any]:
    """The handler of ``periodic:*`` jobs: call the function in the run's transaction."""
    name = str(run.payload.get("name"))
    job = PERIODIC.get(name)
    if job is None:
        raise JobFailed(f"No periodic job named '{name}' is registered in this process")
    session = run.writing()
    company = session.get(Company, run.company_id)
    if company is None:
        raise JobFailed("The company no longer exists")
    function = job.function()
    extra: dict[str, Any] = {"container": container} if job.container else {}
    outcome = function(session, company, container.clock, **extra)
    session.flush()
    if dataclasses.is_dataclass(outcome) and not isinstance(outcome, type):
        outcome = dataclasses.asdict(outcome)
    return {"name": name, "slot": run.payload.get("slot"), "outcome": jsonable(outcome)}


# --- one scheduler per deployment ---------------------------------------------------------


def holder_id() -> str:
    """Who holds a lease: host, process and a random part (two schedulers in one process)."""
    return f"{socket.gethostname()[:120]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass
class Lease:
    """A named database lease held by ``holder`` for ``seconds`` at a time."""

    factory: sessionmaker[Session]
    holder: str
    seconds: float
    name: str = LEASE

    def acquire(self, now: dt.datetime) -> bool:
        """Renew the lease if it is ours, else take it if it is free or expired."""
        until = now + dt.timedelta(seconds=self.seconds)
        with session_scope(self.factory) as session:
            begin_for_writing(session)
            repo.ensure_lease(session, self.name)
            return repo.renew_lease(session, self.name, self.holder, now, until) or (
                repo.take_lease(session, self.name, self.holder, now, until)
            )

    def release(self) -> None:
        """Give the lease up, if it is ours."""
        with session_scope(self.factory) as session:
            begin_for_writing(session)
            repo.free_lease(session, self.name, self.holder)


class Scheduler:
    """Ticks every ``interval`` seconds while it holds the lease (a daemon thread)."""

    def __init__(
        self,
        container: Container,
        *,
        interval: float | None = None,
        lease_seconds: float | None = None,
        holder: str | None = None,
        now: Callable[[], dt.datetime] = utcnow,
        jobs: Sequence[PeriodicJob] | None = None,
    ) -> None:
        settings = container.settings.jobs
        self.container = container
        self.interval = settings.tick_seconds if interval is None else interval
        self.lease = Lease(
            container.session_factory,
            holder or holder_id(),
            settings.lease_seconds if lease_seconds is None else lease_seconds,
        )
        self._now = now
        self.jobs = jobs
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def tick_once(self) -> list[str] | None:
        """Tick if this process holds (or can take) the lease; None when another one does."""
        now = self._now()
        if not self.lease.acquire(now):
            return None
        return tick(self.container, now, self.jobs)

    def start(self) -> None:
        """Start the thread (once); its first tick is one interval from now."""
        if self._thread is None and self.interval > 0:
            self._thread = threading.Thread(
                target=self._run, name="companion-scheduler", daemon=True
            )
            self._thread.start()

    def stop(self) -> None:
        """Stop ticking, wait for a tick in progress, and give the lease up."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=60)
            self._thread = None
            try:
                self.lease.release()
            except Exception:  # shutting down: the lease simply runs out instead
                log.exception("giving the scheduler lease up failed")

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.tick_once()
            except Exception as exc:  # a thread boundary: log it and tick again next time
                if is_lock_timeout(exc):
                    # SQLite's one writer was busy (a long chat turn, an import): not a fault.
                    log.warning("the periodic-job scheduler waited too long for the database")
                else:
                    log.exception("the periodic-job scheduler's tick failed")
