"""Shared fixtures: every database test runs on SQLite and on PostgreSQL.

PostgreSQL is the server already running on the machine (``COMPANION_TEST_PG_URL``,
default ``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``). Each run creates a
fresh database with a unique name and drops it afterwards. A missing server fails the
run; it never skips. ``COMPANION_TEST_BACKENDS=sqlite`` narrows a local run on purpose.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Connection, create_engine, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session

from companion.kit import migrate
from companion.kit.db import make_engine

PG_ADMIN_URL = os.environ.get(
    "COMPANION_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
BACKENDS = [
    b.strip() for b in os.environ.get("COMPANION_TEST_BACKENDS", "sqlite,postgresql").split(",")
]


def _create_pg_database() -> tuple[str, str]:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    name = f"companion_test_{worker}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # a missing server must fail the run, loudly
        pytest.fail(f"PostgreSQL is required for the test suite ({PG_ADMIN_URL}): {exc}")
    finally:
        admin.dispose()
    url = make_url(PG_ADMIN_URL).set(database=name)
    return name, url.render_as_string(hide_password=False)


def _drop_pg_database(name: str) -> None:
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def pg_database_factory() -> Iterator[list[str]]:
    """Names of the PostgreSQL databases made during the run, dropped at its end."""
    made: list[str] = []
    yield made
    for name in made:
        _drop_pg_database(name)


def new_database_url(backend: str, tmp_dir: Path, made: list[str]) -> str:
    """A fresh, empty database of ``backend``; PostgreSQL ones are dropped at the end."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_dir / f'companion-{uuid.uuid4().hex[:8]}.db'}"
    name, url = _create_pg_database()
    made.append(name)
    return url


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
