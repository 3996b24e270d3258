"""SQLite held locked by another writer: a clear 503 with Retry-After, never a 500 (issue 21)."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from e2e_support import PASSWORD, make_settings
from starlette.testclient import TestClient

from companion.auth import service as auth_service
from companion.bootstrap import bootstrap
from companion.kit import migrate
from companion.kit.db import make_engine, make_session_factory, session_scope
from companion.web.app import create_app
from factories import CHEAP_HASHER, make_company

BUSY_TIMEOUT_S = 0.5


@pytest.fixture
def database(tmp_path: Path) -> Path:
    path = tmp_path / "companion.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    with session_scope(make_session_factory(engine)) as session:
        company = make_company(session, "acme", "BDT")
        user = auth_service.create_user(session, CHEAP_HASHER, username="alice", password=PASSWORD)
        auth_service.set_membership(session, user.id, company.id, ["finance"])
    engine.dispose()
    return path


@pytest.fixture
def client(database: Path, tmp_path: Path) -> Iterator[TestClient]:
    settings = make_settings(
        f"sqlite:///{database}", data_dir=tmp_path, database_busy_timeout_s=BUSY_TIMEOUT_S
    )
    container = bootstrap(settings)
    with TestClient(create_app(container), raise_server_exceptions=False) as test_client:
        yield test_client
    container.engine.dispose()


def test_a_write_that_cannot_get_the_lock_is_a_503_with_retry_after(
    database: Path, client: TestClient
) -> None:
    login = {"username": "alice", "password": PASSWORD}
    token = client.post("/api/v1/auth/login", json=login).json()["access_token"]
    holder = sqlite3.connect(database, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")  # another process's writer, holding on
        started = time.monotonic()
        refused = client.post("/api/v1/auth/login", json=login)
        waited = time.monotonic() - started
        assert refused.status_code == 503, refused.text
        error = refused.json()["error"]
        assert error["code"] == "database_busy"
        assert error["details"]["retry_after"] == 2
        assert refused.headers["Retry-After"] == "2"
        assert BUSY_TIMEOUT_S * 0.8 <= waited < 5  # the configured wait, not 30 s
        # Readers are not held up by a writer (WAL).
        me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert me.status_code == 200, me.text
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert client.post("/api/v1/auth/login", json=login).status_code == 200
