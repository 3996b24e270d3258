"""The in-process job runner: a small thread pool fed after each request's commit.

``submit`` is called by the session's ``after_commit`` hook (see ``service.enqueue``), so a
job never starts before the row that describes it is visible. On start the app calls
``resume_queued``: jobs a stopped process never started run now. ``workers=0`` keeps
submitted ids until ``drain()`` runs them in the caller's thread (tests whose sessions share
one connection, and so must not run a job beside a request).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor

from sqlalchemy.orm import Session, sessionmaker

from companion.bootstrap import Container
from companion.jobs.service import Handler, queued_job_ids, run_job

log = logging.getLogger(__name__)

DEFAULT_WORKERS = 2


class JobRunner:
    """Runs jobs by id on a thread pool (or, with ``workers=0``, when drained)."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        handlers: Mapping[str, Handler],
        *,
        workers: int = DEFAULT_WORKERS,
    ) -> None:
        self.session_factory = session_factory
        self.handlers = dict(handlers)
        self.workers = workers
        self._pool: ThreadPoolExecutor | None = None
        self._held: list[str] = []
        self._futures: dict[str, Future[str | None]] = {}
        self._lock = threading.Lock()

    def submit(self, job_id: str) -> None:
        """Run ``job_id`` soon (it must be committed as queued)."""
        with self._lock:
            if self.workers == 0:
                self._held.append(job_id)
                return
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="companion-job")
            self._futures[job_id] = self._pool.submit(self._run, job_id)

    def _run(self, job_id: str) -> str | None:
        try:
            return run_job(self.session_factory, job_id, self.handlers)
        except Exception:  # a thread boundary: log it, the pool goes on
            log.exception("job %s could not be run", job_id)
            return None

    def drain(self) -> list[str | None]:
        """Run the held jobs in this thread (``workers=0``); their final statuses."""
        with self._lock:
            held, self._held = self._held, []
        return [self._run(job_id) for job_id in held]

    def wait(self, job_id: str, timeout: float | None = None) -> str | None:
        """Wait for a submitted job to finish; its final status (None: it was not queued)."""
        future = self._futures.get(job_id)
        return future.result(timeout) if future is not None else None

    def resume_queued(self) -> list[str]:
        """Submit every job still queued in the database (run on start); their ids."""
        ids = queued_job_ids(self.session_factory)
        for job_id in ids:
            self.submit(job_id)
        if ids:
            log.info("resuming queued jobs", extra={"jobs": len(ids)})
        return ids

    def shutdown(self, wait: bool = True) -> None:
        """Stop taking jobs; with ``wait`` finish those already running."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=wait, cancel_futures=not wait)


# --- the container's runner (bootstrap.Container owns it) -----------------------------------


def default_handlers(container: Container) -> dict[str, Handler]:
    """The job kinds this process knows, bound to the container's adapters."""
    from companion.jobs import knowledge, learning, scheduler
    from companion.jobs.imports import service as imports
    from companion.jobs.periodic import KIND_PREFIX

    data_dir = container.settings.data_dir
    return {
        knowledge.KIND: lambda run: knowledge.ingest_upload(container, run),
        learning.KIND: lambda run: learning.retrain_job(container, run),
        KIND_PREFIX: lambda run: scheduler.run_periodic(container, run),
        imports.VALIDATE: lambda run: imports.validate_job(data_dir, run),
        imports.COMMIT: lambda run: imports.commit_job(data_dir, run),
    }


def build_job_runner(container: Container) -> JobRunner:
    """The configured runner: a thread pool here, or Celery workers (``jobs.backend``)."""
    if container.settings.jobs.backend == "celery":
        from companion.jobs.celery_app import CeleryRunner

        return CeleryRunner(container)
    return JobRunner(
        container.session_factory,
        default_handlers(container),
        workers=container.settings.jobs.workers,
    )


def runner_for(
    container: Container, factory: Callable[[Container], JobRunner] | None = None
) -> JobRunner:
    """The container's runner, made on first use (by ``factory``, else the default)."""
    return container.job_runner(factory)


def install(container: Container, runner: JobRunner) -> JobRunner:
    """Use ``runner`` for ``container`` (tests: a draining runner)."""
    previous = container.replace_job_runner(runner)
    if previous is not None and previous is not runner:
        previous.shutdown(wait=True)
    return runner


def release(container: Container) -> None:
    """Shut the container's runner down (running jobs finish) and forget it."""
    previous = container.replace_job_runner(None)
    if previous is not None:
        previous.shutdown(wait=True)
