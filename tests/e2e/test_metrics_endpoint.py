"""``GET /metrics``: scraped after real traffic and parsed with prometheus_client's own parser,
on both databases; open to this machine or a bearer token, never to anyone else."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from e2e_support import Tenants, make_settings
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.engine import Engine
from starlette.testclient import TestClient

from companion.assistant.learning import telemetry as learning_telemetry
from companion.assistant.nlu import NLU
from companion.assistant.nlu.rasa import parse_rasa_nlu_text
from companion.assistant.service import Assistant
from companion.assistant.understanding import CompanyNLU
from companion.bootstrap import Container
from companion.config import LearningSettings, Settings
from companion.kit import telemetry
from companion.llm.embeddings import FakeEmbedder
from companion.web.app import create_app
from companion.web.metrics import allowed
from learning_fixtures import SMALL_NLU, answered

TOKEN = "s3cret-metrics-token-0123"


def scrape(client: TestClient, **headers: str) -> dict[str, Any]:
    r = client.get("/metrics", headers=headers)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain")
    return {family.name: family for family in text_string_to_metric_families(r.text)}


def samples(family: Any, name: str, **labels: str) -> list[float]:
    return [
        s.value
        for s in family.samples
        if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())
    ]


@pytest.fixture
def chat_container(container: Container, clock: Any) -> Container:
    """The small NLU answers chat turns (no model to load)."""
    learning_telemetry.install()
    nlu = NLU.from_data(parse_rasa_nlu_text(SMALL_NLU), embedder=FakeEmbedder(), cache_dir=None)
    container._assistant = Assistant(CompanyNLU(nlu), clock)
    return container


def test_a_scrape_after_traffic_parses_and_counts_it(
    chat_container: Container, client: TestClient, tenants: Tenants
) -> None:
    assert client.get("/healthz").status_code == 200
    headers = tenants.headers("acme", "finance")
    turn = client.post("/api/v1/ai/chat", json={"message": "hello"}, headers=headers)
    assert turn.status_code == 200, turn.text
    rated = client.post(
        f"/api/v1/ai/messages/{turn.json()['message_id']}/feedback",
        json={"rating": "up"},
        headers=headers,
    )
    assert rated.status_code == 200
    ctx = tenants.context("acme", "finance")
    down = answered(tenants.session, ctx, "kitty", "greet")
    tenants.session.commit()
    client.post(f"/api/v1/ai/messages/{down}/feedback", json={"rating": "down"}, headers=headers)
    telemetry.tally("model_calls", provider="fake", outcome="error")
    telemetry.tally("job_runs", kind="test.kind", status="done")

    families = scrape(client)
    requests = families["companion_http_requests"]
    assert samples(requests, "companion_http_requests_total", route="/healthz", status="200") == [
        1.0
    ]
    chat = "/api/v1/ai/chat"
    assert samples(requests, "companion_http_requests_total", route=chat, method="POST") == [1.0]
    latency = families["companion_http_request_duration_seconds"]
    assert samples(latency, "companion_http_request_duration_seconds_count", route=chat) == [1.0]
    turns = families["companion_chat_turn_duration_seconds"]
    assert sum(samples(turns, "companion_chat_turn_duration_seconds_count")) == 1.0
    confidence = families["companion_nlu_confidence"]
    assert samples(confidence, "companion_nlu_confidence_count") == [1.0]
    assert samples(confidence, "companion_nlu_confidence_bucket", le="+Inf") == [1.0]
    events = families["companion_events"]
    assert samples(events, "companion_events_total", kind="feedback") == [2.0]
    ratio = families["companion_feedback_positive_ratio"]
    assert ratio.samples[0].value == pytest.approx(0.5)
    assert samples(families["companion_feedback"], "companion_feedback", rating="down") == [1.0]
    assert samples(
        families["companion_confirmations"], "companion_confirmations", status="requested"
    ) == [0.0]
    calls = families["companion_model_calls"]
    assert samples(calls, "companion_model_calls_total", provider="fake", outcome="error")[0] >= 1
    jobs = families["companion_job_runs"]
    assert samples(jobs, "companion_job_runs_total", kind="test.kind", status="done")[0] >= 1
    assert "companion_cache_requests" in families
    # A route that matched nothing is one label, not one per path tried.
    client.get("/no/such/path/123")
    again = scrape(client)["companion_http_requests"]
    assert samples(again, "companion_http_requests_total", route="unmatched", status="404") == [1.0]


@pytest.fixture
def closed_client(engine: Engine, container: Container) -> Iterator[TestClient]:
    """An app whose /metrics is closed to loopback and opened by a token."""
    settings: Settings = make_settings(
        engine.url.render_as_string(hide_password=False),
        learning=LearningSettings(metrics_on_loopback=False, metrics_token=TOKEN),
    )
    container.settings = settings
    app: FastAPI = create_app(container)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def test_a_closed_endpoint_needs_the_token(closed_client: TestClient) -> None:
    refused = closed_client.get("/metrics")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "permission_denied"
    wrong = closed_client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}x"})
    assert wrong.status_code == 403
    assert "companion_http_requests" in scrape(closed_client, Authorization=f"Bearer {TOKEN}")


def test_a_short_token_is_refused_at_start() -> None:
    with pytest.raises(ValueError):
        LearningSettings(metrics_token="short")


class _Req:
    def __init__(self, host: str | None, auth: str = "") -> None:
        self.client = type("C", (), {"host": host})() if host is not None else None
        self.headers = {"authorization": auth} if auth else {}


@pytest.mark.parametrize(
    ("host", "auth", "open_", "expected"),
    [
        ("127.0.0.1", "", True, True),
        ("::1", "", True, True),
        ("10.0.0.5", "", True, False),
        ("127.0.0.1", "", False, False),
        ("10.0.0.5", f"Bearer {TOKEN}", False, True),
        (None, "", True, False),
        ("not-an-ip", "", True, False),
    ],
)
def test_who_may_scrape(host: str | None, auth: str, open_: bool, expected: bool) -> None:
    assert allowed(_Req(host, auth), TOKEN, open_on_loopback=open_) is expected  # type: ignore[arg-type]
