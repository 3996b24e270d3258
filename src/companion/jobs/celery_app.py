"""Jobs at scale: Celery workers over Redis run the same jobs the in-process runner would.

``COMPANION_JOBS__BACKEND=celery`` makes the container's runner a ``CeleryRunner``: a job
committed by a request (after its commit, as in-process) is sent as ``companion.run_job``
with its id; ``companion worker`` runs it with the same ``run_job`` (the row is claimed
queued -> running by one conditional UPDATE, so a redelivered or retried task does nothing
twice). ``companion beat`` sends ``companion.tick`` every ``jobs.tick_seconds``; a worker
plans the due periodic runs (unique run keys: two beats still make one run each).
"""

from __future__ import annotations

import logging
import os
from typing import Any

from celery import Celery
from sqlalchemy.exc import DBAPIError, OperationalError

from companion.bootstrap import Container
from companion.jobs.runner import JobRunner, default_handlers
from companion.jobs.service import run_job

log = logging.getLogger(__name__)

RUN_JOB = "companion.run_job"
TICK = "companion.tick"
# A database that cannot be reached is worth retrying (the job stays queued meanwhile).
TRANSIENT = (OperationalError, DBAPIError)


def make_celery(container: Container) -> Celery:
    """A Celery app over the container: its broker, queue and the two tasks."""
    from companion.jobs.scheduler import tick

    settings = container.settings.jobs
    app = Celery("companion", broker=settings.broker_url, set_as_current=False)
    transport: dict[str, Any] = {}
    if settings.key_prefix:
        transport["global_keyprefix"] = settings.key_prefix
    tick_seconds = settings.tick_seconds or 30.0
    app.conf.update(
        broker_transport_options=transport,
        broker_connection_retry_on_startup=True,
        task_default_queue=settings.queue,
        task_ignore_result=True,
        # Acknowledged after the run: a worker killed mid-job leaves the task to another.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        worker_hijack_root_logger=False,
        timezone="UTC",
        beat_schedule={
            "companion-tick": {
                "task": TICK,
                "schedule": tick_seconds,
                # A tick nobody took in time is dropped: the next one plans the same runs.
                "options": {"queue": settings.queue, "expires": tick_seconds},
            }
        },
        beat_schedule_filename=str(container.settings.data_dir / "celerybeat-schedule"),
    )
    handlers = default_handlers(container)

    # shared=False: the tasks belong to this app (this container) only, not to every app
    # made later in the process.
    @app.task(  # type: ignore[untyped-decorator]
        name=RUN_JOB,
        shared=False,
        autoretry_for=TRANSIENT,
        retry_backoff=True,
        retry_backoff_max=300,
        max_retries=8,
    )
    def run_job_task(job_id: str) -> str | None:
        """Run one committed job by id (nothing when it is not queued any more)."""
        return run_job(container.session_factory, job_id, handlers)

    @app.task(  # type: ignore[untyped-decorator]
        name=TICK, shared=False, autoretry_for=TRANSIENT, retry_backoff=True, max_retries=3
    )
    def tick_task() -> int:
        """Plan the due periodic runs; the count (each is sent as its own run_job)."""
        return len(tick(container))

    return app


def fresh_connections_after_fork(container: Container) -> None:
    """Forked (prefork) worker processes open their own database connections.

    Connected by ``companion worker`` only: the parent's pooled connections must not be
    shared with a child, and a worker in this process (the solo pool, tests) keeps its own.
    """
    from celery.signals import worker_process_init

    parent = os.getpid()

    def _forget_parent_connections(**_: Any) -> None:
        if os.getpid() != parent:
            container.engine.dispose(close=False)

    worker_process_init.connect(_forget_parent_connections, weak=False)


class CeleryRunner(JobRunner):
    """The container's runner when ``jobs.backend`` is celery: jobs go to the queue."""

    def __init__(self, container: Container) -> None:
        super().__init__(container.session_factory, {}, workers=1)
        self.celery = make_celery(container)
        self.queue = container.settings.jobs.queue

    def submit(self, job_id: str) -> None:
        """Send ``job_id`` to the workers (called after the commit that made it)."""
        self.celery.send_task(RUN_JOB, args=[job_id], queue=self.queue)

    def drain(self) -> list[str | None]:
        """Nothing is held here: the workers run the jobs."""
        return []

    def shutdown(self, wait: bool = True) -> None:
        """Close the broker connections."""
        self.celery.close()
