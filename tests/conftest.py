"""Shared fixtures: every database test runs on SQLite and on PostgreSQL.

PostgreSQL is the server already running on the machine (``COMPANION_TEST_PG_URL``,
default ``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``). Each run creates a
fresh database with a unique name and drops it afterwards. A missing server fails the
run; it never skips. ``COMPANION_TEST_BACKENDS=sqlite`` narrows a local run on purpose.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from filelock import FileLock
from sqlalchemy import Connection
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from companion.kit import migrate
from companion.kit.db import make_engine
from companion.llm.embeddings import DEFAULT_EMBEDDER, EmbedderCache
from companion.llm.providers.llamacpp import LlamaModels
from dbutil import RUN_ID_ENV, drop_pg_database, drop_templates, new_database_url, shared_root

DATA_DIR_KEY = pytest.StashKey[str]()
BACKENDS = [
    b.strip() for b in os.environ.get("COMPANION_TEST_BACKENDS", "sqlite,postgresql").split(",")
]


def pytest_configure(config: pytest.Config) -> None:
    """One id for the run (inherited by the xdist workers), a data folder per process.

    Settings default ``data_dir`` to ``./var``: an app a test builds without naming one
    would share the developer's folder, and the other worker's. Each test process gets its
    own temporary one instead (removed at its end); tests that need their own still pass one.
    """
    if not hasattr(config, "workerinput"):
        os.environ.setdefault(RUN_ID_ENV, uuid.uuid4().hex[:10])
    folder = tempfile.mkdtemp(prefix="companion-test-data-")
    config.stash[DATA_DIR_KEY] = folder
    os.environ["COMPANION_DATA_DIR"] = folder


def pytest_unconfigure(config: pytest.Config) -> None:
    folder = config.stash.get(DATA_DIR_KEY, None)
    if folder:
        shutil.rmtree(folder, ignore_errors=True)


def pytest_sessionfinish(session: pytest.Session) -> None:
    """The controller (or the only process) drops the run's template databases."""
    if not hasattr(session.config, "workerinput") and "postgresql" in BACKENDS:
        drop_templates()


@pytest.fixture(scope="session")
def pg_database_factory() -> Iterator[list[str]]:
    """Names of the PostgreSQL databases made during the run, dropped at its end."""
    made: list[str] = []
    yield made
    for name in made:
        drop_pg_database(name)


@pytest.fixture(scope="session")
def embedders() -> Iterator[EmbedderCache]:
    """The run's loaded embedders, given to the tests' containers: one model load a worker."""
    cache = EmbedderCache()
    yield cache
    cache.clear()


@pytest.fixture(scope="session")
def llama_models() -> Iterator[LlamaModels]:
    """The run's in-process language models, for tests' llama providers: one load a worker."""
    models = LlamaModels()
    yield models
    models.clear()


@pytest.fixture(scope="session")
def nlu_cache(tmp_path_factory: pytest.TempPathFactory, embedders: EmbedderCache) -> Path:
    """Where the shipped NLU is cached for the run: trained once (~25 s), then loaded.

    Every test that needs the real NLU (the NLU's own, the chat end-to-end ones, the demo
    command's ``data/nlu``) shares this folder, so a run trains it once, not once per suite
    nor once per xdist worker: the first worker trains it under a file lock, the others
    wait and load it. Read it; a test that writes a data folder copies it.
    """
    from companion.assistant.nlu import NLU  # the real model: only for tests that ask

    folder = shared_root(tmp_path_factory) / "data" / "nlu"
    folder.mkdir(parents=True, exist_ok=True)
    with FileLock(str(folder.parent / "nlu.lock")):
        NLU.load(cache_dir=folder, embedder=embedders.get(DEFAULT_EMBEDDER))
    return folder


@pytest.fixture(scope="session", params=[b for b in ("sqlite", "postgresql") if b in BACKENDS])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def engines() -> Iterator[dict[str, Engine]]:
    """A session's engines by database key (disposed at its end), for ``engine`` fixtures.

    pytest keeps one instance of a parametrized session fixture at a time: under xdist's
    ``--dist loadfile`` a worker runs a file's SQLite tests, then its PostgreSQL ones, then
    the next file's SQLite ones, so ``engine`` was torn down and migrated again for every
    file and backend (4-11 s each at load 18). Kept here, each is made once per worker.
    """
    made: dict[str, Engine] = {}
    yield made
    for eng in made.values():
        eng.dispose()


@pytest.fixture(scope="session")
def engine(
    backend: str,
    engines: dict[str, Engine],
    tmp_path_factory: pytest.TempPathFactory,
    pg_database_factory: list[str],
) -> Engine:
    """A migrated database of each backend, shared by the session's tests."""
    if backend not in engines:
        url = new_database_url(backend, tmp_path_factory.mktemp(backend), pg_database_factory)
        eng = make_engine(url)
        migrate.upgrade(eng)
        engines[backend] = eng
    return engines[backend]


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
