"""The app around the routes: probes, request ids, logs, OpenAPI, 500s, startup checks."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from e2e_support import Tenants, make_settings
from fastapi import FastAPI
from sqlalchemy import create_engine
from starlette.testclient import TestClient

from companion.bootstrap import bootstrap
from companion.errors import DatabaseNotMigrated
from companion.kit import migrate
from companion.kit.db import make_engine
from companion.logging import JsonFormatter
from companion.web.app import create_app


@pytest.fixture
def unmigrated_app(tmp_path: Path) -> Iterator[FastAPI]:
    """The app over an empty SQLite file."""
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    engine = make_engine(url)
    yield create_app(bootstrap(make_settings(url), engine=engine))
    engine.dispose()


def test_healthz_and_readyz(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["status"] == "ready"
    assert ready.json()["revision"] == migrate.head_revision()


def test_readyz_is_503_on_an_unmigrated_database(unmigrated_app: FastAPI) -> None:
    client = TestClient(unmigrated_app)  # no lifespan: it would refuse to start
    response = client.get("/readyz")
    assert response.status_code == 503
    error = response.json()["error"]
    assert error["code"] == "database_not_migrated"
    assert "companion migrate" in error["message"]
    assert client.get("/healthz").status_code == 200


def test_readyz_is_503_when_the_database_is_unreachable() -> None:
    url = "postgresql+psycopg://postgres@127.0.0.1:1/nowhere?connect_timeout=2"
    engine = create_engine(url)
    response = TestClient(create_app(bootstrap(make_settings(url), engine=engine))).get("/readyz")
    engine.dispose()
    assert response.status_code == 503
    assert response.json()["error"]["details"] == {"reason": "database_unreachable"}


def test_the_app_refuses_to_start_on_an_unmigrated_database(unmigrated_app: FastAPI) -> None:
    with pytest.raises(DatabaseNotMigrated, match="companion migrate"):
        with TestClient(unmigrated_app):
            pass  # pragma: no cover - startup fails first


def test_request_id_is_kept_when_sane_and_made_otherwise(client: TestClient) -> None:
    kept = client.get("/healthz", headers={"X-Request-ID": "trace-42.a:b"})
    assert kept.headers["x-request-id"] == "trace-42.a:b"
    for insane in ("has spaces", "x" * 200, "semi;colon"):
        made = client.get("/healthz", headers={"X-Request-ID": insane})
        assert made.headers["x-request-id"] != insane
        assert len(made.headers["x-request-id"]) == 32
    a, b = client.get("/healthz"), client.get("/healthz")
    assert a.headers["x-request-id"] != b.headers["x-request-id"]


def test_errors_carry_the_request_id_too(client: TestClient) -> None:
    response = client.get("/api/v1/me", headers={"X-Request-ID": "req-401"})
    assert response.status_code == 401
    assert response.headers["x-request-id"] == "req-401"


def test_one_json_access_line_per_request_with_user_and_company(
    client: TestClient, tenants: Tenants, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="companion.access"):
        client.get(
            "/api/v1/me",
            headers={**tenants.headers("acme", "finance"), "X-Request-ID": "req-log-1"},
        )
    lines = [r for r in caplog.records if r.name == "companion.access"]
    assert len(lines) == 1
    entry = json.loads(JsonFormatter().format(lines[0]))
    assert entry["method"] == "GET"
    assert entry["path"] == "/api/v1/me"
    assert entry["status"] == 200
    assert entry["request_id"] == "req-log-1"
    assert entry["user"] == "acme-finance"
    assert entry["company"] == "acme"
    assert entry["duration_ms"] >= 0


def test_an_unexpected_error_is_a_500_envelope_without_a_trace(
    app: FastAPI, client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    def boom() -> None:
        raise RuntimeError("secret internals: password=hunter2")

    app.add_api_route("/api/v1/boom", boom)
    with caplog.at_level(logging.ERROR):
        response = client.get("/api/v1/boom", headers={"X-Request-ID": "req-500"})
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/json"
    assert response.headers["x-request-id"] == "req-500"
    error = response.json()["error"]
    assert error["code"] == "internal_error"
    assert error["details"] == {"request_id": "req-500"}
    assert "hunter2" not in response.text and "Traceback" not in response.text
    logged = [r for r in caplog.records if r.exc_info]
    assert logged and "hunter2" in JsonFormatter().format(logged[0])
    assert json.loads(JsonFormatter().format(logged[0]))["request_id"] == "req-500"


def test_openapi_documents_security_and_permissions(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    assert doc["info"]["title"] == "Companion API"
    assert doc["info"]["version"]
    schemes = doc["components"]["securitySchemes"]
    assert schemes["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "A token from POST /api/v1/auth/login",
    }
    assert schemes["apiKeyAuth"]["name"] == "X-Api-Key"
    me = doc["paths"]["/api/v1/me"]["get"]
    assert me["security"] == [{"bearerAuth": []}, {"apiKeyAuth": []}]
    assert "x-company" in [p["name"].lower() for p in me.get("parameters", [])]
    create_key = doc["paths"]["/api/v1/api-keys"]["post"]
    assert create_key["x-permissions"] == ["admin.users"]
    login = doc["paths"]["/api/v1/auth/login"]["post"]
    assert "security" not in login
    assert login["responses"]["422"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ErrorEnvelope"
    }
    assert client.get("/docs").status_code == 200
