"""Shared fixtures: every database test runs on SQLite and on PostgreSQL.

PostgreSQL is the server already running on the machine (``COMPANION_TEST_PG_URL``,
default ``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``). Each run creates a
fresh database with a unique name and drops it afterwards. A missing server fails the
run; it never skips. ``COMPANION_TEST_BACKENDS=sqlite`` narrows a local run on purpose.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Connection
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from companion.kit import migrate
from companion.kit.db import make_engine
from dbutil import drop_pg_database, new_database_url

BACKENDS = [
    b.strip() for b in os.environ.get("COMPANION_TEST_BACKENDS", "sqlite,postgresql").split(",")
]


@pytest.fixture(scope="session")
def pg_database_factory() -> Iterator[list[str]]:
    """Names of the PostgreSQL databases made during the run, dropped at its end."""
    made: list[str] = []
    yield made
    for name in made:
        drop_pg_database(name)


@pytest.fixture(scope="session")
def nlu_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the shipped NLU is cached for the run: trained once (~25 s), then loaded.

    Every test that needs the real NLU (the NLU's own, the chat end-to-end ones, the demo
    command's ``data/nlu``) shares this folder, so a run trains it once, not once per suite.
    """
    folder = tmp_path_factory.getbasetemp() / "data" / "nlu"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="session", params=[b for b in ("sqlite", "postgresql") if b in BACKENDS])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def engine(
    backend: str, tmp_path_factory: pytest.TempPathFactory, pg_database_factory: list[str]
) -> Iterator[Engine]:
    """A migrated database of each backend, shared by the session's tests."""
    url = new_database_url(backend, tmp_path_factory.mktemp(backend), pg_database_factory)
    eng = make_engine(url)
    migrate.upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    """A connection inside a transaction that is rolled back after the test."""
    with engine.connect() as conn:
        trans = conn.begin()
        yield conn
        if trans.is_active:
            trans.rollback()


@pytest.fixture
def session(connection: Connection) -> Iterator[Session]:
    """A session whose commits only release savepoints: the test leaves nothing behind."""
    sess = Session(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    yield sess
    sess.close()
