"""``companion worker``, ``beat`` and ``jobs``: background and periodic jobs from a shell."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from companion.bootstrap import Container
from companion.cli.common import cli_errors, fail, migrated_container, out
from companion.cli.main import app

jobs_app = typer.Typer(no_args_is_help=True, help="Periodic jobs: the schedule and one tick.")
app.add_typer(jobs_app, name="jobs")


def _celery_container(c: Container) -> object:
    """The container's Celery app; refuses unless COMPANION_JOBS__BACKEND=celery."""
    from companion.jobs.celery_app import CeleryRunner

    if c.settings.jobs.backend != "celery":
        raise fail("Set COMPANION_JOBS__BACKEND=celery to run Celery workers and beat")
    runner = c.job_runner()
    assert isinstance(runner, CeleryRunner)
    return runner.celery


@app.command("worker")
def worker(
    concurrency: Annotated[int, typer.Option(min=1, max=64, help="Worker processes")] = 2,
    pool: Annotated[str, typer.Option(help="prefork, threads or solo")] = "prefork",
    loglevel: Annotated[str, typer.Option(help="Celery's log level")] = "INFO",
) -> None:
    """Run a Celery worker: background jobs and periodic runs (COMPANION_JOBS__BACKEND=celery)."""
    from companion.jobs.celery_app import fresh_connections_after_fork

    with cli_errors(), migrated_container() as c:
        celery = _celery_container(c)
        fresh_connections_after_fork(c)
        celery.worker_main(  # type: ignore[attr-defined]
            [
                "worker",
                f"--queues={c.settings.jobs.queue}",
                f"--concurrency={concurrency}",
                f"--pool={pool}",
                f"--loglevel={loglevel}",
            ]
        )


@app.command("beat")
def beat(
    loglevel: Annotated[str, typer.Option(help="Celery's log level")] = "INFO",
) -> None:
    """Run Celery beat: sends the periodic-job tick every jobs.tick_seconds (run exactly one)."""
    with cli_errors(), migrated_container() as c:
        celery = _celery_container(c)
        c.settings.data_dir.mkdir(parents=True, exist_ok=True)  # beat keeps its state there
        celery.start(["beat", f"--loglevel={loglevel}"])  # type: ignore[attr-defined]


@jobs_app.command("schedule")
def schedule() -> None:
    """List the registered periodic jobs and their schedules."""
    from companion.jobs.periodic import registered

    table = Table("name", "schedule", "function")
    for job in registered():
        target = job.target if isinstance(job.target, str) else job.target.__qualname__
        table.add_row(job.name, job.schedule.describe(), target)
    out.print(table)


@jobs_app.command("tick")
def tick(
    wait: Annotated[bool, typer.Option(help="Run the due jobs here before returning")] = True,
) -> None:
    """Plan the periodic runs due now (for a cron-driven deployment); runs them unless --no-wait."""
    from companion.jobs.scheduler import tick as plan_and_submit

    with cli_errors(), migrated_container() as c:
        if c.settings.jobs.backend == "inprocess":
            from companion.jobs import runner as job_runner

            held = job_runner.JobRunner(
                c.session_factory, job_runner.default_handlers(c), workers=0
            )
            job_runner.install(c, held)
        added = plan_and_submit(c)
        out.print(f"{len(added)} periodic run(s) due")
        if c.settings.jobs.backend == "inprocess" and wait:
            statuses = held.drain()
            out.print(f"{statuses.count('done')} done, {statuses.count('failed')} failed")
