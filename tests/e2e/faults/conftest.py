"""Fault tests: real server processes, real databases, real peers made unreachable.

Each test gets its own copy of the small demo (``dbutil.demo_database``, built once per run
and backend, the chat suite's) so it may kill servers and terminate connections freely.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from companion.kit.db import make_engine
from dbutil import demo_database

DEMO_TODAY = dt.date(2026, 3, 15)


@pytest.fixture
def demo_url(
    backend: str, tmp_path_factory: pytest.TempPathFactory, pg_database_factory: list[str]
) -> str:
    """A fresh copy of the demo in a database of this test's own."""
    return demo_database(backend, tmp_path_factory, pg_database_factory, today=DEMO_TODAY)


@pytest.fixture
def demo_engine(demo_url: str) -> Iterator[Engine]:
    engine = make_engine(demo_url)
    yield engine
    engine.dispose()


@pytest.fixture
def fresh_session(demo_engine: Engine) -> Iterator[Session]:
    """A session on the test's database that sees what the servers committed."""
    with Session(demo_engine, expire_on_commit=False) as session:
        yield session
