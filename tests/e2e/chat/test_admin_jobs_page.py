"""The command center's jobs page: the periodic jobs, recent runs, and "run now"."""

from __future__ import annotations

import pytest
from admin_support import csrf_of, sign_in
from e2e_support import PASSWORD, Tenants
from fastapi import FastAPI
from starlette.testclient import TestClient

from companion.bootstrap import Container
from companion.jobs import runner as job_runner
from companion.jobs.periodic import registered
from companion.jobs.runner import JobRunner
from companion.web.app import create_app


@pytest.fixture
def runner(container: Container) -> JobRunner:
    return JobRunner(container.session_factory, job_runner.default_handlers(container), workers=0)


@pytest.fixture
def app(container: Container, runner: JobRunner) -> FastAPI:
    job_runner.install(container, runner)
    return create_app(container)


def test_an_admin_sees_the_schedule_and_runs_a_job_now(
    client: TestClient, tenants: Tenants, runner: JobRunner
) -> None:
    csrf = sign_in(client, "acme-admin", PASSWORD)
    page = client.get("/admin/acme/jobs")
    assert page.status_code == 200
    assert 'id="periodic-jobs.prune"' in page.text and "daily at 03:15" in page.text
    assert "No job matches." in page.text and "never" in page.text
    r = client.post("/admin/acme/jobs/jobs.prune/run", data={"csrf": csrf}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/admin/acme/jobs?notice=queued"
    assert runner.drain() == ["done"]
    after = client.get("/admin/acme/jobs?notice=queued").text
    assert "Queued: it runs in a moment." in after
    assert "periodic:jobs.prune" in after and "st-done" in after
    # No failed run: only the schedule's rows (one per registered periodic job) remain.
    failed = client.get("/admin/acme/jobs", params={"status": "failed"}).text
    assert failed.count("<tr id=") == len(registered())
    assert "periodic:jobs.prune" not in failed
    # The other company's page shows none of acme's runs.
    assert "periodic:jobs.prune" not in client.get("/admin/globex/jobs").text


def test_bad_input_and_missing_permission_are_refused(
    client: TestClient, tenants: Tenants, runner: JobRunner
) -> None:
    csrf = sign_in(client, "acme-admin", PASSWORD)
    assert client.get("/admin/acme/jobs", params={"status": "bogus"}).status_code == 422
    missing = client.post("/admin/acme/jobs/no.such/run", data={"csrf": csrf})
    assert missing.status_code == 404
    forged = client.post("/admin/acme/jobs/jobs.prune/run", data={"csrf": "x"})
    assert forged.status_code == 403 and runner.drain() == []
    sign_in(client, "acme-sales", PASSWORD)
    assert client.get("/admin/acme/jobs").status_code == 403
    assert csrf_of(client.get("/admin/acme/jobs").text)  # the refusal page keeps its sign-out
