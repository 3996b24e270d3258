"""The command center's Learning and Metrics pages, through the real sign-in form, on both
databases: the review queue (one example edited and approved, the rest in bulk), an export,
a retrain behind the gate, a rollback; who may open them; a bad form is a 422 page.

The app's NLU is the small one of ``learning_fixtures`` (no model to load)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from admin_support import sign_in
from e2e_support import PASSWORD, Tenants
from fastapi import FastAPI
from starlette.testclient import TestClient

from companion.assistant.learning import telemetry as learning_telemetry
from companion.assistant.learning.company_models import CompanyModels, TrainParams
from companion.assistant.learning.feedback import give_feedback
from companion.assistant.learning.schemas import FeedbackIn
from companion.assistant.nlu import NLU
from companion.assistant.nlu.rasa import parse_rasa_nlu_text
from companion.bootstrap import Container
from companion.jobs import runner as job_runner
from companion.jobs.runner import JobRunner
from companion.llm.embeddings import FakeEmbedder
from companion.web.app import create_app
from learning_fixtures import HELDOUT, SMALL_NLU, TODAY, answered

KITTY = ["how is the kitty looking", "what's in the kitty", "kitty status", "check the kitty"]


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
def small_models(container: Container, tmp_path: Path) -> None:
    learning_telemetry.install()
    nlu = NLU.from_data(parse_rasa_nlu_text(SMALL_NLU), embedder=FakeEmbedder(), cache_dir=None)
    container._company_models = CompanyModels(
        nlu,
        tmp_path,
        heldout=lambda: list(HELDOUT),
        params=TrainParams(weight=3, max_iter=200),
        today=lambda: TODAY,
    )


def corrections(tenants: Tenants) -> list[int]:
    ctx = tenants.context("acme", "finance")
    body = FeedbackIn.model_validate({"correction": {"intent": "cash_balance"}})
    ids = []
    for text in KITTY:
        message_id = answered(tenants.session, ctx, text, "out_of_scope")
        ids.append(give_feedback(tenants.session, ctx, message_id, body).example_id or 0)
    tenants.session.commit()
    return ids


def test_review_export_retrain_and_rollback_from_the_page(
    client: TestClient, tenants: Tenants, runner: JobRunner
) -> None:
    ids = corrections(tenants)
    csrf = sign_in(client, "acme-admin", PASSWORD)
    page = client.get("/admin/acme/learning")
    assert page.status_code == 200, page.text
    assert all(f'id="example-{i}"' in page.text for i in ids)
    assert 'href="/admin/acme/metrics"' in page.text and 'href="/admin/acme/learning"' in page.text

    one = client.get(f"/admin/acme/learning/examples/{ids[0]}")
    assert one.status_code == 200 and "how is the kitty looking" in one.text
    edited = client.post(
        f"/admin/acme/learning/examples/{ids[0]}",
        data={"csrf": csrf, "decision": "approve", "notes": "petty cash", "intent": "cash_balance"},
        follow_redirects=True,
    )
    assert edited.status_code == 200 and f"Example {ids[0]}: approve." in edited.text
    bulk = client.post(
        "/admin/acme/learning/bulk",
        data={"csrf": csrf, "decision": "approve", "ids": [str(i) for i in ids[1:]]},
        follow_redirects=True,
    )
    assert bulk.status_code == 200 and "3 example(s): approve." in bulk.text

    exported = client.post(
        "/admin/acme/learning/export", data={"csrf": csrf, "limit": "50"}, follow_redirects=True
    )
    assert "Dataset v1 exported: 4 examples." in exported.text
    download = client.get("/admin/acme/learning/datasets/1/nlu.yml")
    assert download.status_code == 200 and "attachment" in download.headers["content-disposition"]
    assert len(parse_rasa_nlu_text(download.text).examples) == 4

    queued = client.post("/admin/acme/learning/retrain", data={"csrf": csrf}, follow_redirects=True)
    assert "Retrain queued (job " in queued.text and "A retrain is queued" in queued.text
    twice = client.post("/admin/acme/learning/retrain", data={"csrf": csrf})
    assert twice.status_code == 409 and "already queued or running" in twice.text
    assert runner.drain() == ["done"]
    trained = client.get("/admin/acme/learning")
    assert "A retrain is" not in trained.text
    assert re.search(r"badge st-active\">active", trained.text)
    back = client.post(
        "/admin/acme/learning/rollback", data={"csrf": csrf, "version": "0"}, follow_redirects=True
    )
    assert "The shipped model is active." in back.text and "Use v1" in back.text

    metrics = client.get("/admin/acme/metrics")
    assert metrics.status_code == 200 and "companion_training_examples" in metrics.text


def test_who_may_open_the_pages_and_bad_forms(client: TestClient, tenants: Tenants) -> None:
    ids = corrections(tenants)
    sign_in(client, "acme-finance", PASSWORD)
    assert client.get("/admin/acme/learning").status_code == 403
    assert client.get("/admin/acme/metrics").status_code == 403
    csrf = sign_in(client, "acme-admin", PASSWORD)
    # Without the CSRF token nothing changes.
    refused = client.post("/admin/acme/learning/bulk", data={"decision": "approve", "ids": ids})
    assert refused.status_code == 403
    bad = client.post(
        f"/admin/acme/learning/examples/{ids[0]}",
        data={"csrf": csrf, "decision": "approve", "intent": "make_coffee"},
    )
    assert bad.status_code == 422 and "intent" in bad.text
    assert client.get("/admin/acme/learning?status=odd").status_code == 422
    assert client.get("/admin/acme/learning/examples/999999").status_code == 404
    assert client.get("/admin/globex/learning").status_code == 403  # not a member there
    nothing = client.post(
        "/admin/acme/learning/export", data={"csrf": csrf, "limit": "5"}, follow_redirects=True
    )
    assert nothing.status_code == 409
    assert client.get("/admin/acme/learning/datasets/1/secrets.txt").status_code == 422
