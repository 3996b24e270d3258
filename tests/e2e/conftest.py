"""End-to-end fixtures: the real app on the test database, an HTTP client, two tenants.

Everything here runs once per database backend (SQLite and PostgreSQL), like the
``session`` fixture it builds on, and leaves nothing behind: the app's sessions join the
test's ``connection``, so a request's commit only releases a savepoint.

- ``settings`` / ``clock``: what the app runs with; ``clock`` is a ``FixedClock`` at the
  real time (``clock.advance(...)`` to expire tokens and keys).
- ``container`` / ``app`` / ``client``: ``create_app`` over that container, served by
  starlette's ``TestClient`` (httpx), lifespan included.
- ``tenants``: companies ``acme`` (BDT) and ``globex`` (USD), each with one user per role
  called ``<slug>-<role>`` (``acme-finance``, ``globex-admin`` ...) plus ``<slug>-norole``
  (a member with no role), ``ceo`` (executive in both) and ``outsider`` (no company).
  ``tenants.headers("acme", "finance")`` gives the headers of that user;
  ``tenants.context("acme", "finance")`` the matching ``RequestContext`` for calling
  services directly to set up data (flush or commit ``session`` before requesting).

New routes are swept without being listed: ``test_tenancy_sweep.py`` (another company's
ids answer 404, lists show nothing of it, odd ids are 4xx) and ``test_permissions_sweep.py``
(every ``Depends(require(...))`` refuses callers without it). The tenancy sweep makes one
row per tenant table from the models; a row it cannot make plausible enough for your route
(an enum value, a CHECK constraint) is taught through ``SWEEP_VALUES`` in
``e2e_support.py``. Declare path ids as ``web.deps.RecordId`` (bounded: never a 500).

Example::

    def test_customers_list(client, tenants, session):
        ...create records with tenants.context("acme", "sales")..., then session.commit()
        r = client.get("/api/v1/customers", headers=tenants.headers("acme", "sales"))
        assert r.status_code == 200
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from e2e_support import Tenants, build_tenants, load_tenants, make_settings, tenants_database
from fastapi import FastAPI
from sqlalchemy import Connection
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from companion.bootstrap import Container, bootstrap
from companion.config import Settings
from companion.kit.clock import FixedClock
from companion.kit.db import make_engine
from companion.llm.embeddings import EmbedderCache
from companion.web.app import create_app
from dbutil import database_from_template


@pytest.fixture(scope="session")
def engine(
    backend: str,
    engines: dict[str, Engine],
    tmp_path_factory: pytest.TempPathFactory,
    pg_database_factory: list[str],
) -> Engine:
    """A migrated database of each backend holding the two tenants, committed.

    Built once per run as a template (``tenants_database``) and copied once per worker
    (kept in ``engines``), so ``tenants`` loads them (~20 ms) instead of writing them for
    every test (1-3 s on a loaded machine). Tests still run in a rolled-back transaction:
    what one does to them, no other test sees.
    """
    key = f"e2e-tenants-{backend}"
    if key not in engines:
        url = database_from_template(
            backend, "e2e-tenants", tenants_database, tmp_path_factory, pg_database_factory
        )
        engines[key] = make_engine(url)
    return engines[key]


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(dt.datetime.now(dt.UTC).replace(microsecond=0))


@pytest.fixture
def settings(engine: Engine) -> Settings:
    return make_settings(engine.url.render_as_string(hide_password=False))


@pytest.fixture
def container(
    engine: Engine,
    connection: Connection,
    settings: Settings,
    clock: FixedClock,
    embedders: EmbedderCache,
) -> Container:
    """A container whose sessions join the test's transaction (nothing survives the test)."""
    factory = sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    return bootstrap(
        settings, engine=engine, session_factory=factory, clock=clock, embedders=embedders
    )


@pytest.fixture
def app(container: Container) -> FastAPI:
    return create_app(container)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    """An HTTP client on ``app`` (lifespan run: the database must be migrated)."""
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def tenants(session: Session, settings: Settings, clock: FixedClock) -> Tenants:
    """acme (BDT) and globex (USD), a user per role in each, ``ceo`` and ``outsider``."""
    return load_tenants(session, settings, clock) or build_tenants(session, settings, clock)
