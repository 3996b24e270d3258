"""Creating and dropping test databases (used by conftest.py and suites needing their own)."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

PG_ADMIN_URL = os.environ.get(
    "COMPANION_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def create_pg_database() -> tuple[str, str]:
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
