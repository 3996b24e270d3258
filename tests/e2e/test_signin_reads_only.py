"""Signing in only reads: a chat POST queues for the write lock once, an API key's use is
stamped in a short write of its own at most every ``LAST_USED_RESOLUTION`` (issue 18 part 1).

A real engine (no shared test transaction), SQLite file and PostgreSQL database of the test's
own: on SQLite the write lock held by another process's connection shows who waits for it.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from e2e_support import PASSWORD, make_settings
from sqlalchemy import event, select
from sqlalchemy.engine import Engine
from starlette.testclient import TestClient

from companion.auth import service as auth_service
from companion.auth.models import ApiKey
from companion.bootstrap import Container, bootstrap
from companion.kit import migrate
from companion.kit.clock import FixedClock
from companion.kit.db import make_engine, make_session_factory, session_scope
from companion.web.app import create_app
from dbutil import new_database_url
from factories import CHEAP_HASHER, make_company

BUSY_TIMEOUT_S = 2.0


@pytest.fixture
def served(
    backend: str, tmp_path: Path, pg_database_factory: list[str]
) -> Iterator[tuple[TestClient, Container, FixedClock, str]]:
    """The app over a database of its own (acme, ``alice`` in finance, one API key)."""
    url = new_database_url(backend, tmp_path, pg_database_factory)
    engine = make_engine(url)
    migrate.upgrade(engine)
    clock = FixedClock(dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC))
    with session_scope(make_session_factory(engine)) as session:
        company = make_company(session, "acme", "BDT")
        user = auth_service.create_user(session, CHEAP_HASHER, username="alice", password=PASSWORD)
        auth_service.set_membership(session, user.id, company.id, ["finance"])
        _, plaintext = auth_service.create_api_key(
            session,
            user_id=user.id,
            company_id=company.id,
            name="bot",
            roles=["finance"],
            expires_at=None,
            now=clock.now(),
        )
    engine.dispose()
    settings = make_settings(url, data_dir=tmp_path, database_busy_timeout_s=BUSY_TIMEOUT_S)
    container = bootstrap(settings, clock=clock)
    with TestClient(create_app(container), raise_server_exceptions=False) as client:
        yield client, container, clock, plaintext
    container.engine.dispose()


def _statements(engine: Engine, found: list[str]) -> Any:
    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        found.append(" ".join(statement.split()).upper())

    event.listen(engine, "before_cursor_execute", seen)
    return seen


def _last_used(container: Container) -> dt.datetime | None:
    with session_scope(container.session_factory) as session:
        return session.execute(select(ApiKey.last_used_at)).scalar_one()


def test_an_api_key_is_stamped_apart_and_at_most_every_few_minutes(
    served: tuple[TestClient, Container, FixedClock, str],
) -> None:
    client, container, clock, key = served
    statements: list[str] = []
    listener = _statements(container.engine, statements)
    try:
        assert client.get("/api/v1/me", headers={"X-Api-Key": key}).status_code == 200
        assert _last_used(container) == clock.now()
        stamped = [s for s in statements if s.startswith("UPDATE API_KEYS")]
        assert len(stamped) == 1
        first = clock.now()
        clock.advance(dt.timedelta(minutes=1))
        statements.clear()
        for _ in range(3):  # within the resolution: reads only, no write at all
            assert client.get("/api/v1/me", headers={"X-Api-Key": key}).status_code == 200
        assert _last_used(container) == first
        assert not [s for s in statements if s.startswith(("UPDATE", "INSERT", "DELETE"))]
        assert not [s for s in statements if "BEGIN IMMEDIATE" in s]
        clock.advance(auth_service.LAST_USED_RESOLUTION)
        assert client.get("/api/v1/me", headers={"X-Api-Key": key}).status_code == 200
        assert _last_used(container) == clock.now()
    finally:
        event.remove(container.engine, "before_cursor_execute", listener)


@pytest.mark.parametrize("path", ["/api/v1/ai/chat", "/api/v1/ai/chat/stream"])
def test_a_chat_post_signs_in_without_the_write_lock(
    served: tuple[TestClient, Container, FixedClock, str], backend: str, path: str
) -> None:
    """A chat request's session begins as a reader: a writer holding the lock for longer than
    the busy timeout keeps its sign-in waiting not at all (before, it waited and got a 503)."""
    client, container, clock, key = served
    login = {"username": "alice", "password": PASSWORD}
    token = client.post("/api/v1/auth/login", json=login).json()["access_token"]
    bearer = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/me", headers={"X-Api-Key": key}).status_code == 200  # stamped
    holder = None
    if backend == "sqlite":
        database = container.engine.url.database
        assert database is not None
        holder = sqlite3.connect(database, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # another process's writer, holding on
    try:
        for headers in (bearer, {"X-Api-Key": key}):
            started = time.monotonic()
            # A body without its message: FastAPI signs in (the dependencies) before it
            # refuses the body, and nothing of the turn runs.
            answer = client.post(path, json={}, headers=headers)
            assert answer.status_code == 422, answer.text
            assert time.monotonic() - started < BUSY_TIMEOUT_S / 2
        if holder is not None:  # an ordinary write still queues for the lock, and gives up
            refused = client.post("/api/v1/auth/login", json=login)
            assert refused.status_code == 503, refused.text
            assert refused.json()["error"]["code"] == "database_busy"
    finally:
        if holder is not None:
            holder.execute("ROLLBACK")
            holder.close()


def test_signing_in_is_one_statement_and_a_turn_reads_no_company_or_policy(
    served: tuple[TestClient, Container, FixedClock, str],
) -> None:
    """A bearer token's sign-in reads the user and their companies in one statement, an API
    key's its key, owner, company and membership in one; a chat turn then reads neither the
    company (the context carries its name and time zone) nor the memory policy (no provider
    marked external), and sweeps no memories (the scheduled job does)."""
    client, container, _, key = served
    login = {"username": "alice", "password": PASSWORD}
    token = client.post("/api/v1/auth/login", json=login).json()["access_token"]
    assert client.get("/api/v1/me", headers={"X-Api-Key": key}).status_code == 200  # stamped
    statements: list[str] = []
    listener = _statements(container.engine, statements)
    try:
        for headers in ({"Authorization": f"Bearer {token}"}, {"X-Api-Key": key}):
            statements.clear()
            # Refused after the sign-in (no message): only the sign-in's statements ran.
            assert client.post("/api/v1/ai/chat", json={}, headers=headers).status_code == 422
            reads = [s.split(" FROM ")[1].split()[0] for s in statements if " FROM " in s]
            # (An API key is then looked at by id, to know whether its use is due a stamp.)
            assert reads == (["USERS"] if "Authorization" in headers else ["API_KEYS"] * 2)
        statements.clear()
        answer = client.post(
            "/api/v1/ai/chat",
            json={"message": "sales this month"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert answer.status_code == 200, answer.text
        context = answer.json()["context"]
        assert (context["company_name"], context["timezone"]) == ("Acme", "UTC")
        reads = [s for s in statements if s.startswith("SELECT")]
        # The Company row (the usage meter reads its time zone alone, once per company).
        assert not [s for s in reads if s.startswith("SELECT COMPANIES.SLUG, COMPANIES.NAME,")]
        assert not [s for s in reads if "MEMORY_POLICIES" in s]
        assert not [s for s in reads if s.startswith("SELECT MEMORIES.ID")]
    finally:
        event.remove(container.engine, "before_cursor_execute", listener)
