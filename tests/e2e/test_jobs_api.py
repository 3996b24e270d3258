"""The jobs API: a company's job runs (periodic ones too), the schedule, and run-now.

The e2e sessions share one connection, so the runner holds jobs until the test drains it.
"""

from __future__ import annotations

import datetime as dt

import pytest
from e2e_support import Tenants
from fastapi import FastAPI
from starlette.testclient import TestClient

from companion.bootstrap import Container
from companion.jobs import runner as job_runner
from companion.jobs.runner import JobRunner
from companion.web.app import create_app

URL = "/api/v1/ai/jobs"


@pytest.fixture
def runner(container: Container) -> JobRunner:
    return JobRunner(container.session_factory, job_runner.default_handlers(container), workers=0)


@pytest.fixture
def app(container: Container, runner: JobRunner) -> FastAPI:
    job_runner.install(container, runner)
    return create_app(container)


def test_an_admin_runs_a_periodic_job_now_and_sees_it_in_the_list_and_schedule(
    client: TestClient, tenants: Tenants, runner: JobRunner
) -> None:
    admin = tenants.headers("acme", "admin")
    r = client.post(f"{URL}/schedule/jobs.prune/run", headers=admin)
    assert r.status_code == 202, r.text
    accepted = r.json()
    assert accepted["status"] == "queued"
    assert accepted["status_url"] == f"{URL}/{accepted['job_id']}"
    assert runner.drain() == ["done"]
    job = client.get(accepted["status_url"], headers=admin).json()
    assert job["kind"] == "periodic:jobs.prune" and job["status"] == "done"
    assert job["result"] == {"name": "jobs.prune", "slot": None, "outcome": {"deleted": 0}}
    assert job["error"] is None and job["finished_at"] is not None

    listed = client.get(URL, headers=admin, params={"kind": "periodic"}).json()
    assert listed["total"] == 1 and listed["items"][0]["id"] == accepted["job_id"]
    assert client.get(URL, headers=admin, params={"status": "failed"}).json()["total"] == 0
    assert client.get(URL, headers=admin, params={"kind": "kb.ingest"}).json()["total"] == 0

    schedule = {row["name"]: row for row in client.get(f"{URL}/schedule", headers=admin).json()}
    prune = schedule["jobs.prune"]
    assert prune["schedule"] == "daily at 03:15 (company time)"
    assert prune["last_run"]["id"] == accepted["job_id"]
    assert dt.datetime.fromisoformat(prune["next_run_at"]) > dt.datetime.now(dt.UTC)
    assert schedule["alerts.scan"]["last_run"] is None


def test_jobs_stay_in_their_company_and_members_see_only_their_own(
    client: TestClient, tenants: Tenants, runner: JobRunner
) -> None:
    r = client.post(f"{URL}/schedule/jobs.prune/run", headers=tenants.headers("acme", "admin"))
    runner.drain()
    job_id = r.json()["job_id"]
    globex = tenants.headers("globex", "admin")
    assert client.get(URL, headers=globex).json()["total"] == 0
    missing = client.get(f"{URL}/{job_id}", headers=globex)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    # A member without ai.admin lists only the jobs they started (none here).
    sales = tenants.headers("acme", "sales")
    assert client.get(URL, headers=sales).json() == {
        "items": [],
        "total": 0,
        "limit": 50,
        "offset": 0,
    }


@pytest.mark.parametrize(
    ("method", "path", "params", "status", "code"),
    [
        ("post", "/schedule/no.such.job/run", None, 404, "not_found"),
        ("post", "/schedule/" + "x" * 65 + "/run", None, 422, None),
        ("get", "", {"status": "bogus"}, 422, "validation_failed"),
        ("get", "", {"limit": "0"}, 422, None),
        ("get", "", {"kind": "k" * 65}, 422, None),
    ],
)
def test_bad_requests_get_a_clear_error_not_a_500(
    client: TestClient,
    tenants: Tenants,
    method: str,
    path: str,
    params: dict[str, str] | None,
    status: int,
    code: str | None,
) -> None:
    r = client.request(method, URL + path, headers=tenants.headers("acme", "admin"), params=params)
    assert r.status_code == status, r.text
    assert "error" in r.json()
    if code is not None:
        assert r.json()["error"]["code"] == code


def test_the_schedule_and_run_now_need_ai_admin(client: TestClient, tenants: Tenants) -> None:
    sales = tenants.headers("acme", "sales")
    assert client.get(f"{URL}/schedule", headers=sales).status_code == 403
    r = client.post(f"{URL}/schedule/jobs.prune/run", headers=sales)
    assert r.status_code == 403 and r.json()["error"]["code"] == "permission_denied"
    assert client.get(URL).status_code == 401
