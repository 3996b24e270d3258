"""A real ``companion serve`` process on a loopback port, over real HTTP, on a SQLite file."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from e2e_support import PASSWORD, TEST_SECRET
from served import served

from companion.auth import service as auth_service
from companion.kit import migrate
from companion.kit.db import make_engine, make_session_factory, session_scope
from factories import CHEAP_HASHER, make_company

STARTUP_TIMEOUT_S = 30


def _prepare_database(url: str) -> None:
    engine = make_engine(url)
    migrate.upgrade(engine)
    with session_scope(make_session_factory(engine)) as session:
        company = make_company(session, "acme", "BDT")
        user = auth_service.create_user(session, CHEAP_HASHER, username="alice", password=PASSWORD)
        auth_service.set_membership(session, user.id, company.id, ["finance"])
    engine.dispose()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """``companion serve`` on a free port; yields its base URL and its log file."""
    url = f"sqlite:///{tmp_path / 'companion.db'}"
    _prepare_database(url)
    env = {
        "COMPANION_DATABASE_URL": url,
        "COMPANION_AUTH__SECRET_KEY": TEST_SECRET,
        "COMPANION_DEMO_MODE": "false",
        "COMPANION_LOG_JSON": "true",
        "COMPANION_LOG_LEVEL": "INFO",
        # Probes, sign-in and limits, not the warm-up (tests/e2e/test_warm_start.py): with it
        # on, /readyz says "warming" while this fresh data folder's NLU is trained.
        "COMPANION_API__WARM_START": "false",
    }
    log_path = tmp_path / "server.log"
    with served(env, log_path, startup_timeout_s=STARTUP_TIMEOUT_S) as base:
        yield base, log_path


@pytest.mark.slow
def test_a_real_server_serves_probes_login_and_me(server: tuple[str, Path]) -> None:
    base, log_path = server
    with httpx.Client(base_url=base, timeout=10) as http:
        assert http.get("/healthz").json() == {"status": "ok"}
        ready = http.get("/readyz")
        assert ready.status_code == 200
        assert ready.json()["database"] == "sqlite"

        login = http.post("/api/v1/auth/login", json={"username": "alice", "password": PASSWORD})
        assert login.status_code == 200, login.text
        token = login.json()["access_token"]
        assert login.json()["companies"] == [{"slug": "acme", "name": "Acme", "roles": ["finance"]}]

        me = http.get(
            "/api/v1/me", headers={"Authorization": f"Bearer {token}", "X-Request-ID": "real-1"}
        )
        assert me.status_code == 200
        assert me.headers["x-request-id"] == "real-1"
        assert me.json()["company"] == {"slug": "acme", "name": "Acme", "currency": "BDT"}

        refused = http.get("/api/v1/me")
        assert refused.status_code == 401
        assert refused.json()["error"]["code"] == "not_authenticated"

        def chunks() -> Iterator[bytes]:
            for _ in range(20):
                yield b"z" * 100_000

        too_big = http.post(
            "/api/v1/auth/login", content=chunks(), headers={"Content-Type": "application/json"}
        )
        assert too_big.status_code == 413
        assert too_big.json()["error"]["code"] == "payload_too_large"

    time.sleep(0.2)  # the access line is written after the response is sent
    lines = [json.loads(line) for line in log_path.read_text().splitlines() if line.startswith("{")]
    access = [e for e in lines if e.get("logger") == "companion.access"]
    me_lines = [e for e in access if e["request_id"] == "real-1"]
    assert len(me_lines) == 1
    assert me_lines[0] | {"duration_ms": 0} == me_lines[0] | {
        "method": "GET",
        "path": "/api/v1/me",
        "status": 200,
        "user": "alice",
        "company": "acme",
        "duration_ms": 0,
    }
