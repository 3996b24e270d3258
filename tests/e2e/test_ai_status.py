"""``GET /api/v1/ai/status``: providers, health and breaker, policies; ai.use required."""

from __future__ import annotations

from pathlib import Path

import pytest
from e2e_support import Tenants, make_settings
from sqlalchemy.engine import Engine
from starlette.testclient import TestClient

from companion.bootstrap import Container
from companion.config import LLMSettings, Settings

STATUS = "/api/v1/ai/status"


@pytest.fixture
def settings(engine: Engine, tmp_path: Path) -> Settings:
    """No model (provider none), and a policy file naming a second, remote provider."""
    policies = tmp_path / "policies.yml"
    policies.write_text(
        "providers:\n"
        "  remote: {kind: openai_compat, base_url: 'http://127.0.0.1:9/v1', model: m}\n"
        "use_cases:\n"
        "  knowledge_answer: {enabled: true, fallback: [remote]}\n"
        "  chat: {enabled: false}\n",
        encoding="utf-8",
    )
    return make_settings(
        engine.url.render_as_string(hide_password=False),
        llm=LLMSettings(provider="none", policies_file=policies),
    )


def test_status_shows_providers_and_policies(client: TestClient, tenants: Tenants) -> None:
    r = client.get(STATUS, headers=tenants.headers("acme", "viewer"))
    assert r.status_code == 200, r.text
    body = r.json()
    providers = {p["name"]: p for p in body["providers"]}
    assert set(providers) == {"default", "none", "remote"}
    assert providers["default"]["kind"] == "none"
    assert providers["default"]["detail"] == "no model configured"
    assert providers["none"]["detail"] == "no model configured"
    # The remote provider is configured but never built by a status call.
    assert providers["remote"]["loaded"] is False and providers["remote"]["kind"] is None
    assert body["model_available"] is True  # the remote one
    assert all(p["breaker"] == "closed" and p["calls"] == 0 for p in providers.values())
    policies = body["policies"]
    assert set(policies) == {
        "chat",
        "knowledge_answer",
        "tool_choice",
        "summarize",
        "draft_email",
        "score_customer",
    }
    assert policies["chat"]["enabled"] is False and policies["chat"]["active"] is False
    assert policies["knowledge_answer"]["fallback"] == ["remote"]
    # Enabled, and the remote fallback is a model: the use case is active.
    assert policies["knowledge_answer"]["active"] is True
    assert policies["tool_choice"]["active"] is False  # only "default", which is none
    assert policies["knowledge_answer"]["stream"] is True


def test_status_reports_health_and_an_open_breaker(
    client: TestClient, tenants: Tenants, container: Container
) -> None:
    health = container.llm().health["remote"]
    for _ in range(3):  # the shipped failure_threshold
        health.record_failure(12.0, "llm_timeout: slow")
    r = client.get(STATUS, headers=tenants.headers("acme", "finance"))
    assert r.status_code == 200, r.text
    remote = next(p for p in r.json()["providers"] if p["name"] == "remote")
    assert remote["breaker"] == "open" and remote["status"] == "unhealthy"
    assert remote["calls"] == 3 and remote["error_rate"] == 1.0
    assert remote["consecutive_failures"] == 3
    assert remote["last_error"] == "llm_timeout: slow"


def test_status_needs_ai_use(client: TestClient, tenants: Tenants) -> None:
    r = client.get(STATUS, headers=tenants.headers("acme", "norole"))
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "permission_denied"
    assert client.get(STATUS).status_code == 401
