"""Fixtures of the data-query tests: the two companies of ``query_world``, in a savepoint."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from query_world import A_NAMES, B_NAMES, World, build_world
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session


@pytest.fixture(scope="module")
def world_db(engine: Engine) -> Iterator[tuple[Session, World, World]]:
    """Both companies, built once per module and backend, in a transaction rolled back after.

    Building through the services takes about a second; once per module instead of once per
    test keeps the tests fast. Each test still runs in its own savepoint (``qs``). (Module,
    not package, scope: this folder has no ``__init__.py``, so a "package" fixture would live
    for the whole session and hold SQLite's write lock over every later test.)
    """
    with engine.connect() as conn:
        trans = conn.begin()
        sess = Session(bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False)
        a = build_world(sess, A_NAMES)
        b = build_world(sess, B_NAMES)
        yield sess, a, b
        sess.close()
        trans.rollback()


@pytest.fixture
def qs(world_db: tuple[Session, World, World]) -> Iterator[Session]:
    """The shared session, inside a savepoint rolled back after the test."""
    sess = world_db[0]
    nested = sess.begin_nested()
    yield sess
    if sess.get_nested_transaction() is nested:
        nested.rollback()
    sess.expire_all()


@pytest.fixture
def a(world_db: tuple[Session, World, World]) -> World:
    return world_db[1]


@pytest.fixture
def b(world_db: tuple[Session, World, World]) -> World:
    return world_db[2]
