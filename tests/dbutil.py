"""Creating and dropping test databases (used by conftest.py and suites needing their own).

Under pytest-xdist (``make test`` runs ``-n 2``) each worker makes its own databases, named
by ``PYTEST_XDIST_WORKER``; what is costly to build (the chat demo) is built once per run as
a template (``database_from_template``) and copied for each worker.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from filelock import FileLock
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

PG_ADMIN_URL = os.environ.get(
    "COMPANION_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
RUN_ID_ENV = "COMPANION_TEST_RUN_ID"
TEMPLATE_PREFIX = "companion_tpl_"


def create_pg_database() -> tuple[str, str]:
    name = _test_database_name()
    _create(name)
    url = make_url(PG_ADMIN_URL).set(database=name)
    return name, url.render_as_string(hide_password=False)


def drop_pg_database(name: str) -> None:
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def new_database_url(backend: str, tmp_dir: Path, made: list[str]) -> str:
    """A fresh, empty database of ``backend``; PostgreSQL ones are dropped at the end."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_dir / f'companion-{uuid.uuid4().hex[:8]}.db'}"
    name, url = create_pg_database()
    made.append(name)
    return url


def run_id() -> str:
    """This run's id, the same in every xdist worker (set by the root conftest)."""
    return os.environ.get(RUN_ID_ENV, "local")


def shared_root(factory: pytest.TempPathFactory) -> Path:
    """A folder every xdist worker of this run sees (the run's base temp folder)."""
    base = factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def template_name(key: str, backend: str) -> str:
    return f"{TEMPLATE_PREFIX}{run_id()}_{key}_{backend}"


def drop_templates() -> None:
    """Drop the PostgreSQL template databases this run made (called once, at its end)."""
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            names = conn.execute(
                text("SELECT datname FROM pg_database WHERE datname LIKE :p"),
                {"p": f"{TEMPLATE_PREFIX}{run_id()}_%"},
            ).scalars()
            for name in list(names):
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def database_from_template(
    backend: str,
    key: str,
    build: Callable[[str], None],
    factory: pytest.TempPathFactory,
    made: list[str],
) -> str:
    """A fresh database holding what ``build(url)`` makes, built once per run and copied.

    The first caller (of any xdist worker) builds the template under a file lock; every
    caller gets its own copy (a file copy on SQLite, ``CREATE DATABASE ... TEMPLATE`` on
    PostgreSQL), so tests may change their copy freely.
    """
    root = shared_root(factory)
    with FileLock(str(root / f"template-{key}-{backend}.lock")):
        marker = root / f"template-{key}-{backend}.url"
        if not marker.exists():
            if backend == "sqlite":
                url = f"sqlite:///{root / f'template-{key}.db'}"
            else:
                name = template_name(key, backend)
                _create(name)
                url = _pg_url(name)
            try:
                build(url)
            except BaseException:
                if backend != "sqlite":
                    drop_pg_database(template_name(key, backend))
                raise
            marker.write_text(url)
        template_url = marker.read_text()
        if backend == "sqlite":
            source = Path(make_url(template_url).database or "")
            copy = factory.mktemp(f"{key}-sqlite") / f"companion-{uuid.uuid4().hex[:8]}.db"
            shutil.copyfile(source, copy)
            return f"sqlite:///{copy}"
        name = _test_database_name()
        _create(name, template=make_url(template_url).database)
        made.append(name)
        return _pg_url(name)


def _create(name: str, template: str | None = None) -> None:
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    clause = f' TEMPLATE "{template}"' if template else ""
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"{clause}'))
    except Exception as exc:  # a missing server must fail the run, loudly
        pytest.fail(f"PostgreSQL is required for the test suite ({PG_ADMIN_URL}): {exc}")
    finally:
        admin.dispose()


def _test_database_name() -> str:
    """A unique name that says which xdist worker made it."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    return f"companion_test_{worker}_{uuid.uuid4().hex[:10]}"


def _pg_url(name: str) -> str:
    return make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)


def demo_database(
    backend: str,
    factory: pytest.TempPathFactory,
    made: list[str],
    *,
    today: dt.date,
    months: int = 3,
    scale: float = 0.2,
) -> str:
    """A fresh, migrated database holding ``build_demo(today, months, scale)``.

    The demo is built once per run, backend and parameters (a few seconds to a minute) and
    copied for every caller: the chat end-to-end suite and the browser tier share it.
    """
    from companion.demo.service import build_demo
    from companion.kit import migrate
    from companion.kit.db import make_engine, make_session_factory, session_scope
    from factories import CHEAP_HASHER

    def build(url: str) -> None:
        engine = make_engine(url)
        try:
            migrate.upgrade(engine)
            with session_scope(make_session_factory(engine)) as session:
                build_demo(session, CHEAP_HASHER, today=today, months=months, scale=scale)
        finally:
            engine.dispose()

    key = f"demo-{today:%Y%m%d}-{months}m-{str(scale).replace('.', '')}"
    return database_from_template(backend, key, build, factory, made)


def audit_head_locked(engine: Engine, chain: str) -> bool:
    """Whether another transaction holds ``chain``'s audit head (PostgreSQL, ``NOWAIT``)."""
    with engine.connect() as conn:
        try:
            conn.execute(
                text("SELECT seq FROM audit_heads WHERE chain = :c FOR UPDATE NOWAIT"), {"c": chain}
            )
        except OperationalError:
            return True
        finally:
            conn.rollback()
    return False
