"""Chat end-to-end fixtures: a small deterministic demo per backend, the real NLU, the app.

The demo is built once per backend into its own database (committed), and each test runs
in a transaction that is rolled back, so tests see the same data and leave nothing behind.
The NLU is trained once per run, into the root conftest's ``nlu_cache`` (a server process
started by a test copies it).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from e2e_support import make_settings
from fastapi import FastAPI
from sqlalchemy import Connection
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from companion.assistant.nlu import NLU
from companion.assistant.service import Assistant
from companion.assistant.understanding import CompanyNLU
from companion.auth import service as auth_service
from companion.bootstrap import Container, bootstrap
from companion.config import Settings
from companion.kit.clock import FixedClock
from companion.kit.db import make_engine
from companion.llm.embeddings import DEFAULT_EMBEDDER, EmbedderCache
from companion.web.app import create_app
from dbutil import demo_database

DEMO_TODAY = dt.date(2026, 3, 15)


@pytest.fixture(scope="session")
def nlu(nlu_cache: Path, embedders: EmbedderCache) -> NLU:
    return NLU.load(cache_dir=nlu_cache, embedder=embedders.get(DEFAULT_EMBEDDER))


@pytest.fixture(scope="session")
def demo_engine(
    backend: str, tmp_path_factory: pytest.TempPathFactory, pg_database_factory: list[str]
) -> Iterator[Engine]:
    """A small demo (3 months, a fifth of the volume) in a database of its own.

    Built once per run and backend (``dbutil.demo_database``) and copied for each worker.
    """
    url = demo_database(backend, tmp_path_factory, pg_database_factory, today=DEMO_TODAY)
    engine = make_engine(url)
    yield engine
    engine.dispose()


@pytest.fixture
def demo_connection(demo_engine: Engine) -> Iterator[Connection]:
    with demo_engine.connect() as conn:
        trans = conn.begin()
        yield conn
        if trans.is_active:
            trans.rollback()


@pytest.fixture
def demo_session(demo_connection: Connection) -> Iterator[Session]:
    sess = Session(
        bind=demo_connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    yield sess
    sess.close()


@pytest.fixture
def demo_clock() -> FixedClock:
    return FixedClock(dt.datetime.combine(DEMO_TODAY, dt.time(10, 0), tzinfo=dt.UTC))


@pytest.fixture
def demo_settings(demo_engine: Engine, tmp_path: Path) -> Settings:
    return make_settings(
        demo_engine.url.render_as_string(hide_password=False), data_dir=tmp_path, today=DEMO_TODAY
    )


@pytest.fixture
def demo_container(
    demo_engine: Engine,
    demo_connection: Connection,
    demo_settings: Settings,
    demo_clock: FixedClock,
    nlu: NLU,
    embedders: EmbedderCache,
) -> Container:
    factory = sessionmaker(
        bind=demo_connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    container = bootstrap(
        demo_settings,
        engine=demo_engine,
        session_factory=factory,
        clock=demo_clock,
        embedders=embedders,
    )
    container._assistant = Assistant(CompanyNLU(nlu), demo_clock, retriever=container.retriever)
    return container


@pytest.fixture
def chat_app(demo_container: Container) -> FastAPI:
    return create_app(demo_container)


@pytest.fixture
def chat_client(chat_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(chat_app, raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def login(
    chat_client: TestClient, demo_settings: Settings, demo_clock: FixedClock, demo_session: Session
):  # type: ignore[no-untyped-def]
    """Headers for a demo user (password ``demo``), optionally in a given company."""

    def headers(username: str, company: str | None = None) -> dict[str, str]:
        user = auth_service.get_user_by_username(demo_session, username)
        assert user is not None, username
        token, _ = auth_service.issue_token(demo_settings, demo_clock, user)
        result = {"Authorization": f"Bearer {token}"}
        if company:
            result["X-Company"] = company
        return result

    return headers
