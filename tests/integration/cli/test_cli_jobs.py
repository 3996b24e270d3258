"""``companion jobs schedule|tick``, ``worker`` and ``beat`` through typer's CliRunner."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from companion.cli.main import app
from companion.jobs.models import DONE, Job
from companion.jobs.periodic import registered
from companion.kit.db import make_engine, make_session_factory

runner = CliRunner()


def test_schedule_lists_the_shipped_periodic_jobs(database: str) -> None:
    result = runner.invoke(app, ["jobs", "schedule"])
    assert result.exit_code == 0, result.output
    assert "jobs.prune" in result.output and "daily at 03:15" in result.output
    assert "alerts.scan" in result.output and "every 1 h" in result.output


def test_tick_runs_what_is_due_once_per_slot(database: str) -> None:
    due = len(registered())  # one company (acme): one run of each registered job
    first = runner.invoke(app, ["jobs", "tick"])
    assert first.exit_code == 0, first.output
    assert f"{due} periodic run(s) due" in first.output
    again = runner.invoke(app, ["jobs", "tick"])
    assert again.exit_code == 0 and "0 periodic run(s) due" in again.output
    engine = make_engine(database)
    with make_session_factory(engine)() as session:
        runs = session.scalars(select(Job).where(Job.kind.startswith("periodic:"))).all()
        status = {r.kind: r.status for r in runs}
        assert len(runs) == due
        assert status["periodic:alerts.scan"] == status["periodic:jobs.prune"] == DONE
    engine.dispose()


@pytest.mark.parametrize("command", ["worker", "beat"])
def test_worker_and_beat_refuse_without_the_celery_backend(database: str, command: str) -> None:
    result = runner.invoke(app, [command])
    assert result.exit_code == 1
    assert "COMPANION_JOBS__BACKEND=celery" in result.output
