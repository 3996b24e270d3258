"""The learning loop over HTTP on both databases: feedback with a correction, the review queue,
a dataset export, a retrain behind the gate, rollback, fine-tune records and the privacy trail.

The app's NLU is the small one of ``learning_fixtures`` (retrained in well under a second);
``bench/learning_loop.py`` runs the same loop on the shipped NLU.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from e2e_support import Tenants
from fastapi import FastAPI
from sqlalchemy import select
from starlette.testclient import TestClient

from companion.assistant.learning import telemetry as learning_telemetry
from companion.assistant.learning.company_models import CompanyModels, TrainParams
from companion.assistant.learning.models import Dataset
from companion.assistant.nlu import NLU
from companion.assistant.nlu.rasa import parse_rasa_nlu_text
from companion.audit.models import AuditEntry
from companion.bootstrap import Container
from companion.jobs import runner as job_runner
from companion.jobs.runner import JobRunner
from companion.llm.embeddings import FakeEmbedder
from companion.web.app import create_app
from learning_fixtures import HELDOUT, SMALL_NLU, TODAY, answered

KITTY = ["how is the kitty looking", "what's in the kitty", "kitty status", "check the kitty"]
API = "/api/v1/ai"


@pytest.fixture
def runner(container: Container) -> JobRunner:
    """Jobs wait until the test drains them (the e2e sessions share one connection)."""
    return job_runner.install(
        container,
        JobRunner(container.session_factory, job_runner.default_handlers(container), workers=0),
    )


@pytest.fixture
def app(container: Container, runner: JobRunner) -> FastAPI:
    return create_app(container)


@pytest.fixture(autouse=True)
def small_models(container: Container, tmp_path: Path) -> CompanyModels:
    learning_telemetry.install()
    nlu = NLU.from_data(parse_rasa_nlu_text(SMALL_NLU), embedder=FakeEmbedder(), cache_dir=None)
    models = CompanyModels(
        nlu,
        tmp_path,
        heldout=lambda: list(HELDOUT),
        params=TrainParams(weight=3, max_iter=200),
        today=lambda: TODAY,
    )
    container._company_models = models
    return models


def answers(tenants: Tenants, role: str, texts: list[str], intent: str) -> list[str]:
    ctx = tenants.context("acme", role)
    ids = [answered(tenants.session, ctx, text, intent) for text in texts]
    tenants.session.commit()
    return ids


def post(client: TestClient, url: str, headers: dict[str, str], body: Any = None) -> Any:
    return client.post(url, json=body, headers=headers)


def test_the_loop_over_http(client: TestClient, tenants: Tenants, runner: JobRunner) -> None:
    user, admin = tenants.headers("acme", "finance"), tenants.headers("acme", "admin")
    ids = answers(tenants, "finance", KITTY, "out_of_scope")
    examples = []
    for message_id in ids:
        r = post(
            client,
            f"{API}/messages/{message_id}/feedback",
            user,
            {"rating": "down", "score": 2, "correction": {"intent": "cash_balance"}},
        )
        assert r.status_code == 200, r.text
        body = r.json()
        assert (body["rating"], body["score"], body["correction"]) == (
            "down",
            2,
            {"intent": "cash_balance"},
        )
        examples.append(body["example_id"])

    assert client.get(f"{API}/learning/examples", headers=user).status_code == 403
    queue = client.get(f"{API}/learning/examples?status=review", headers=admin).json()
    assert queue["total"] == len(KITTY) and {e["id"] for e in queue["items"]} == set(examples)
    assert (
        client.get(f"{API}/learning/examples", headers=tenants.headers("globex", "admin")).json()[
            "total"
        ]
        == 0
    )

    one = post(
        client,
        f"{API}/learning/examples/{examples[0]}/review",
        admin,
        {"decision": "edit", "notes": "petty cash slang", "answer": "Petty cash is BDT 5,000"},
    )
    assert one.status_code == 200 and one.json()["status"] == "review"
    assert one.json()["kinds"] == ["intent", "answer"]
    bulk = post(
        client, f"{API}/learning/examples/bulk", admin, {"ids": examples, "decision": "approve"}
    )
    assert bulk.status_code == 200 and bulk.json()["count"] == len(KITTY)

    created = post(client, f"{API}/learning/datasets", admin, {"limit": 3})
    assert created.status_code == 201, created.text
    assert (created.json()["version"], created.json()["count"]) == (1, 3)
    again = post(client, f"{API}/learning/datasets", admin, {"limit": 3})
    assert again.status_code == 200 and again.json()["version"] == 1
    everything = post(client, f"{API}/learning/datasets", admin)  # the default limit: all 4
    assert everything.status_code == 201 and everything.json()["count"] == len(KITTY)
    manifest = everything.json()["manifest"]
    assert manifest["counts"]["with_answer"] == 1 and len(manifest["source_message_ids"]) == 4
    second = everything.json()["id"]
    yml = client.get(f"{API}/learning/datasets/{second}/nlu.yml", headers=admin)
    assert yml.status_code == 200 and len(parse_rasa_nlu_text(yml.text).examples) == 4
    jsonl = client.get(f"{API}/learning/datasets/{second}/chat.jsonl", headers=admin)
    assert jsonl.status_code == 200 and len(jsonl.text.splitlines()) == 4
    files = client.get(f"{API}/learning/datasets/{second}", headers=admin).json()
    assert files["version"] == 2 and files["manifest"]["sha256"] == files["sha256"]
    assert client.get(f"{API}/learning/datasets/{second + 99}", headers=admin).status_code == 404

    queued = post(client, f"{API}/learning/nlu/retrain", admin)
    assert queued.status_code == 202, queued.text
    job_url = queued.json()["status_url"]
    assert queued.json()["status"] == "queued" and job_url.startswith(f"{API}/jobs/")
    # One retrain per company at a time: a second request while it waits names it.
    busy = post(client, f"{API}/learning/nlu/retrain", admin)
    assert busy.status_code == 409 and busy.json()["error"]["code"] == "retrain_running"
    assert busy.json()["error"]["details"]["job_id"] == queued.json()["job_id"]
    assert client.get(f"{API}/learning/nlu/models", headers=admin).json() == []
    assert runner.drain() == ["done"]
    job = client.get(job_url, headers=admin).json()
    assert job["kind"] == "learning.retrain" and job["status"] == "done", job
    result = job["result"]
    assert (result["version"], result["status"], result["promoted"]) == (1, "active", True)
    assert result["reasons"] == [] and result["corrections"] == len(KITTY)
    assert result["heldout"]["after"] >= result["heldout"]["before"]
    assert result["company"] == {
        "before": 0.0,
        "after": 1.0,
        "count": len(KITTY),
        "fixed": len(KITTY),
        "broken": 0,
    }
    assert client.get(job_url, headers=tenants.headers("globex", "admin")).status_code == 404
    again = post(client, f"{API}/learning/nlu/retrain", admin)
    assert again.status_code == 409 and again.json()["error"]["code"] == "nothing_to_train"
    models = client.get(f"{API}/learning/nlu/models", headers=admin).json()
    assert [(m["version"], m["status"]) for m in models] == [(1, "active")]
    back = post(client, f"{API}/learning/nlu/rollback", admin, {"version": 0})
    assert back.status_code == 200 and back.json() is None
    assert client.get(f"{API}/learning/nlu/models", headers=admin).json()[0]["status"] == "retired"
    assert post(client, f"{API}/learning/nlu/rollback", admin, {"version": 7}).status_code == 404

    run = post(
        client,
        f"{API}/learning/finetunes",
        admin,
        {
            "dataset_version": 2,
            "base_model": "Qwen2.5-1.5B-Instruct",
            "adapter": "s3://adapters/acme-v2",
            "parameters": {"r": 16, "alpha": 32, "epochs": 3, "lr": 2e-4},
            "evaluation": {"heldout_accuracy": 0.91},
        },
    )
    assert run.status_code == 201, run.text
    assert run.json()["dataset_version"] == 2
    assert (
        client.get(f"{API}/learning/finetunes/{run.json()['id']}", headers=admin).status_code == 200
    )
    missing = post(
        client,
        f"{API}/learning/finetunes",
        admin,
        {"dataset_version": 9, "base_model": "m", "adapter": "a"},
    )
    assert missing.status_code == 404


def test_the_privacy_trail(client: TestClient, tenants: Tenants) -> None:
    (message_id,) = answers(tenants, "finance", ["mail me at rahim@example.com"], "greet")
    assert (
        post(
            client,
            f"{API}/messages/{message_id}/feedback",
            tenants.headers("acme", "finance"),
            {"rating": "up"},
        ).status_code
        == 200
    )
    finance = tenants.user("acme", "finance").id
    url = f"{API}/telemetry/events?user_id={finance}"
    own = client.get(url, headers=tenants.headers("acme", "finance"))
    assert own.status_code == 200 and own.json()["total"] == 1
    assert own.json()["items"][0]["kind"] == "feedback"
    mine = client.get(f"{API}/telemetry/events", headers=tenants.headers("acme", "finance"))
    assert mine.json()["total"] == 1  # the caller's own trail by default
    assert client.get(url, headers=tenants.headers("acme", "admin")).json()["total"] == 1
    refused = client.get(url, headers=tenants.headers("acme", "sales"))
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "permission_denied"
    # Another company's administrator sees nothing of it.
    assert client.get(url, headers=tenants.headers("globex", "admin")).json()["total"] == 0


BAD_BODIES: list[tuple[str, Any]] = [
    ("feedback", {"score": 6}),
    ("feedback", {"score": 0}),
    ("feedback", {"correction": {}}),
    ("feedback", {"correction": {"intent": "make_coffee"}}),
    ("feedback", {"correction": {"intent": "cash_balance", "extra": 1}}),
    ("feedback", {"correction": {"entities": {"x" * 65: 1}}}),
    ("feedback", {"correction": {"answer": ""}}),
    ("feedback", {"comment": "only a comment"}),
    ("learning/examples/1/review", {"decision": "maybe"}),
    ("learning/examples/1/review", {"decision": "edit", "intent": "nope"}),
    ("learning/examples/bulk", {"ids": [], "decision": "approve"}),
    ("learning/examples/bulk", {"ids": list(range(1, 502)), "decision": "approve"}),
    ("learning/examples/bulk", {"ids": [0], "decision": "approve"}),
    ("learning/examples/bulk", {"ids": [1], "decision": "edit"}),
    ("learning/datasets", {"limit": 0}),
    ("learning/datasets", {"limit": 5001}),
    ("learning/nlu/rollback", {"version": -1}),
    ("learning/nlu/rollback", {}),
    ("learning/finetunes", {"dataset_version": 1, "base_model": "", "adapter": "a"}),
    (
        "learning/finetunes",
        {
            "dataset_version": 1,
            "base_model": "m",
            "adapter": "a",
            "parameters": {str(i): i for i in range(101)},
        },
    ),
    ("learning/finetunes", []),
]


def test_bad_input_is_a_422_naming_the_problem(client: TestClient, tenants: Tenants) -> None:
    (message_id,) = answers(tenants, "admin", ["kitty"], "greet")
    for path, body in BAD_BODIES:
        url = f"{API}/messages/{message_id}/feedback" if path == "feedback" else f"{API}/{path}"
        r = post(client, url, tenants.headers("acme", "admin"), body)
        assert r.status_code == 422, (path, body, r.text)
        assert r.json()["error"]["code"] == "validation_failed"


def test_odd_ids_and_empty_states(client: TestClient, tenants: Tenants) -> None:
    admin = tenants.headers("acme", "admin")
    for url in (
        f"{API}/learning/examples/abc",
        f"{API}/learning/examples/{2**31}",
        f"{API}/learning/datasets/0",
        f"{API}/telemetry/events?user_id=-1",
    ):
        assert client.get(url, headers=admin).status_code == 422, url
    assert client.get(f"{API}/learning/examples/99", headers=admin).status_code == 404
    nothing = post(client, f"{API}/learning/datasets", admin)
    assert nothing.status_code == 409 and nothing.json()["error"]["code"] == "nothing_to_export"
    untrained = post(client, f"{API}/learning/nlu/retrain", admin)
    assert untrained.status_code == 409 and untrained.json()["error"]["code"] == "nothing_to_train"
    assert client.get(f"{API}/learning/examples?status=odd", headers=admin).status_code == 422


def approved_kitty(client: TestClient, tenants: Tenants) -> list[int]:
    """The KITTY corrections given over HTTP and approved; their example ids."""
    user, admin = tenants.headers("acme", "finance"), tenants.headers("acme", "admin")
    body = {"correction": {"intent": "cash_balance"}}
    ids = [
        post(client, f"{API}/messages/{m}/feedback", user, body).json()["example_id"]
        for m in answers(tenants, "finance", KITTY, "out_of_scope")
    ]
    bulk = post(client, f"{API}/learning/examples/bulk", admin, {"ids": ids, "decision": "approve"})
    assert bulk.status_code == 200, bulk.text
    return ids


def test_a_failed_retrain_job_leaves_the_company_free_to_retrain(
    client: TestClient, tenants: Tenants, runner: JobRunner
) -> None:
    admin = tenants.headers("acme", "admin")
    ids = approved_kitty(client, tenants)
    first = post(client, f"{API}/learning/nlu/retrain", admin)
    assert first.status_code == 202, first.text
    # The corrections are rejected before the job starts: it finds nothing to train on.
    post(client, f"{API}/learning/examples/bulk", admin, {"ids": ids, "decision": "reject"})
    assert runner.drain() == ["failed"]
    failed = client.get(first.json()["status_url"], headers=admin).json()
    assert failed["error"] == "There are no approved intent corrections to train on"

    post(client, f"{API}/learning/examples/bulk", admin, {"ids": ids, "decision": "approve"})
    second = post(client, f"{API}/learning/nlu/retrain", admin)
    assert second.status_code == 202, second.text
    assert runner.drain() == ["done"]
    assert client.get(second.json()["status_url"], headers=admin).json()["result"]["version"] == 1
    # Back on the shipped model, the same corrections may be trained again (after the
    # finished job let go of the company's retrain slot).
    assert post(client, f"{API}/learning/nlu/rollback", admin, {"version": 0}).status_code == 200
    third = post(client, f"{API}/learning/nlu/retrain", admin)
    assert third.status_code == 202, third.text
    assert runner.drain() == ["done"]
    models = client.get(f"{API}/learning/nlu/models", headers=admin).json()
    assert [(m["version"], m["status"]) for m in models] == [(2, "active"), (1, "retired")]
    # A reviewer of another company has nothing to train.
    other = post(client, f"{API}/learning/nlu/retrain", tenants.headers("globex", "admin"))
    assert other.status_code == 409 and other.json()["error"]["code"] == "nothing_to_train"


def test_the_scheduled_export_runs_as_the_system_when_examples_were_reviewed(
    client: TestClient, tenants: Tenants, runner: JobRunner
) -> None:
    admin = tenants.headers("acme", "admin")
    run_now = f"{API}/jobs/schedule/learning.export/run"

    def scheduled() -> dict[str, Any]:
        queued = post(client, run_now, admin)
        assert queued.status_code == 202, queued.text
        assert runner.drain() == ["done"]
        job = client.get(queued.json()["status_url"], headers=admin).json()
        assert job["kind"] == "periodic:learning.export"
        outcome: dict[str, Any] = job["result"]["outcome"]
        return outcome

    assert scheduled() == {
        "exported": False,
        "reason": "no review since the latest dataset",
        "limit": 200,
    }
    approved_kitty(client, tenants)
    first = scheduled()
    assert (first["exported"], first["version"], first["count"]) == (True, 1, len(KITTY))
    assert scheduled()["exported"] is False  # nothing reviewed since: no new version
    datasets = client.get(f"{API}/learning/datasets", headers=admin).json()
    assert [(d["version"], d["count"]) for d in datasets] == [(1, len(KITTY))]

    entries = tenants.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "learning_dataset.export")
    ).all()
    assert [(e.actor, e.actor_user_id, e.company_id) for e in entries] == [
        ("system:learning.export", None, tenants.companies["acme"].id)
    ]
    dataset = tenants.session.scalars(select(Dataset)).one()
    assert dataset.created_by is None and dataset.manifest["limit"] == 200
    # Another company's run exports nothing of acme's.
    other = post(client, run_now, tenants.headers("globex", "admin"))
    assert other.status_code == 202 and runner.drain() == ["done"]
    assert (
        client.get(f"{API}/learning/datasets", headers=tenants.headers("globex", "admin")).json()
        == []
    )
