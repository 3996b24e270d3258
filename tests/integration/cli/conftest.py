"""Shared by the CLI tests: a migrated database configured for the CLI through the environment."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from companion.config import get_settings
from companion.kit import migrate
from companion.kit.db import make_engine, make_session_factory, session_scope
from companion.tenancy.models import Company
from dbutil import new_database_url


@pytest.fixture
def database(
    backend: str,
    tmp_path: Path,
    pg_database_factory: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[str]:
    """A migrated database with company acme, configured for the CLI (fake embedder)."""
    url = new_database_url(backend, tmp_path, pg_database_factory)
    engine = make_engine(url)
    migrate.upgrade(engine)
    with session_scope(make_session_factory(engine)) as session:
        session.add(Company(slug="acme", name="Acme Trading Ltd", base_currency="BDT"))
    engine.dispose()
    monkeypatch.setenv("COMPANION_DATABASE_URL", url)
    monkeypatch.setenv("COMPANION_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("COMPANION_DEMO_MODE", "true")
    monkeypatch.setenv("COMPANION_RAG__EMBEDDER", "fake")
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()
