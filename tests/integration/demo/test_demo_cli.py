"""``companion demo`` through typer's CliRunner, on a fresh database of each backend."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from typer.testing import CliRunner, Result

from companion.cli import demo as demo_cli
from companion.cli.main import app
from companion.config import get_settings
from companion.kit.db import make_engine
from companion.tenancy.models import Company
from dbutil import new_database_url
from factories import CHEAP_HASHING_ENV

runner = CliRunner()
SMALL = ("--no-serve", "--today", "2026-03-15", "--months", "1", "--scale", "0.05")


@pytest.fixture
def database(
    backend: str,
    tmp_path: Path,
    pg_database_factory: list[str],
    nlu_cache: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[str]:
    """An empty database the CLI is configured for; the environment is put back after."""
    url = new_database_url(backend, tmp_path, pg_database_factory)
    monkeypatch.setenv("COMPANION_DATABASE_URL", url)
    # The demo would train the assistant's model into data/nlu: a copy of the run's trained
    # one is there already, so it is loaded, not trained again (and the run's copy is not
    # written by this test's knowledge index).
    shutil.copytree(nlu_cache, tmp_path / "data" / "nlu")
    monkeypatch.setenv("COMPANION_DATA_DIR", str(tmp_path / "data"))
    # The command sets these two itself; registering them here restores them afterwards.
    monkeypatch.setenv("COMPANION_DEMO_MODE", "false")
    monkeypatch.setenv("COMPANION_TODAY", "2020-01-01")
    for name, value in CHEAP_HASHING_ENV.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


def run(*args: str) -> Result:
    return runner.invoke(app, ["demo", *args])


def companies(url: str) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(Company)).scalar_one()
    finally:
        engine.dispose()


def test_demo_builds_keeps_what_exists_serves_and_resets(
    database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = run(*SMALL)
    assert first.exit_code == 0, first.output
    assert "Built in" in first.output and "2026-03-15" in first.output
    assert "Password for every demo user: demo" in first.output
    for username in ("ceo", "finance", "sales", "buyer", "storekeeper", "viewer", "gfinance"):
        assert username in first.output
    assert companies(database) == 2
    assert os.environ["COMPANION_DEMO_MODE"] == "true"

    # Without --no-serve the server starts (stubbed), after saying the demo is there.
    calls: list[dict[str, object]] = []
    monkeypatch.setattr(demo_cli, "serve_command", lambda **kw: calls.append(kw))
    second = run(*[a for a in SMALL if a != "--no-serve"])
    assert second.exit_code == 0, second.output
    assert "already holds the demo" in second.output and "Built in" not in second.output
    assert calls == [{"host": None, "port": None, "reload": False}]

    engine = make_engine(database)
    with engine.begin() as conn:
        conn.execute(text("UPDATE companies SET name = 'Renamed' WHERE slug = 'acme'"))
    engine.dispose()
    reset = run("--reset", *SMALL)
    assert reset.exit_code == 0, reset.output
    assert "Built in" in reset.output
    engine = make_engine(database)
    with engine.connect() as conn:
        names = set(conn.execute(text("SELECT name FROM companies")).scalars())
    engine.dispose()
    assert names == {"Acme Trading Ltd", "Globex Manufacturing Inc"}

    # A --reset whose options cannot make a demo stops before dropping anything.
    for bad in (("--scale", "6"), ("--months", "0"), ("--today", "0001-01-01")):
        refused = run("--reset", "--no-serve", *bad)
        assert refused.exit_code == 2, refused.output
        assert "Dropped" not in refused.output and "Deleted" not in refused.output
        assert companies(database) == 2
    assert "Cannot plan 13 months ending 0001-01-01 at scale 1.0" in refused.output


BAD_OPTIONS = [
    (("--scale", "5.01"), "--scale"),
    (("--scale", "0.04"), "--scale"),
    (("--scale", "nan"), "--scale"),
    (("--scale", "inf"), "--scale"),
    (("--scale", "lots"), "--scale"),
    (("--months", "37"), "--months"),
    (("--months", "0"), "--months"),
    (("--months", "1.5"), "--months"),
    (("--today", "15/03/2026"), "--today must be a date"),
    (("--today", "9999-12-31"), "Cannot plan"),
]


@pytest.mark.parametrize(("args", "says"), BAD_OPTIONS)
def test_a_bad_option_is_a_clear_error_that_touches_nothing(
    args: tuple[str, ...], says: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Exit code 2 and one message, no traceback, and no database file created."""
    path = tmp_path / "untouched.db"
    monkeypatch.setenv("COMPANION_DATABASE_URL", f"sqlite:///{path}")
    monkeypatch.setenv("COMPANION_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("COMPANION_DEMO_MODE", "false")
    monkeypatch.setenv("COMPANION_TODAY", "2020-01-01")
    get_settings.cache_clear()
    try:
        result = run("--reset", "--no-serve", *args)
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)
    assert says in result.output and "Traceback" not in result.output
    assert not path.exists()
