"""The admin commands on a temporary SQLite file, through typer's CliRunner."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner, Result

from companion.cli.main import app
from companion.config import get_settings
from companion.kit import migrate
from companion.kit.db import make_engine, make_session_factory, session_scope
from factories import CHEAP_HASHING_ENV, make_company

runner = CliRunner()


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """An empty SQLite file the CLI is configured for (through the environment)."""
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("COMPANION_DATABASE_URL", url)
    monkeypatch.setenv("COMPANION_AUTH__SECRET_KEY", "cli-test-secret-0123456789-abcdefghijk")
    monkeypatch.setenv("COMPANION_DEMO_MODE", "false")
    for name, value in CHEAP_HASHING_ENV.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


def run(*args: str) -> Result:
    return runner.invoke(app, list(args))


def _execute(url: str, sql: str, **params: object) -> list[tuple[object, ...]]:
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            result = conn.execute(text(sql), params)
            return [tuple(r) for r in result] if result.returns_rows else []
    finally:
        engine.dispose()


def _add_company(url: str, slug: str, currency: str) -> None:
    engine = make_engine(url)
    with session_scope(make_session_factory(engine)) as session:
        make_company(session, slug, currency)
    engine.dispose()


def test_migrate_brings_an_empty_database_to_head_and_says_so(database: str) -> None:
    first = run("migrate")
    assert first.exit_code == 0, first.output
    head = migrate.head_revision()
    assert f"to {head}" in first.output and f"at revision {head}" in first.output
    again = run("migrate")
    assert again.exit_code == 0
    assert "up to date" in again.output


def test_users_audit_and_tampering(database: str) -> None:
    assert run("migrate").exit_code == 0
    _add_company(database, "acme", "BDT")

    created = run(
        "users", "create", "alice", "--password", "pw-123456", "--full-name", "Alice A", "--email",
        "alice@example.com",
    )  # fmt: skip
    assert created.exit_code == 0, created.output
    assert "Created user alice" in created.output
    joined = run("users", "add-to-company", "alice", "acme", "--roles", "finance,sales")
    assert joined.exit_code == 0, joined.output
    changed = run("users", "set-roles", "alice", "acme", "--roles", "viewer")
    assert changed.exit_code == 0, changed.output

    listed = run("users", "list")
    assert listed.exit_code == 0
    assert "alice" in listed.output and "acme: viewer" in listed.output

    rows = _execute(database, "SELECT roles FROM memberships")
    assert len(rows) == 1 and "viewer" in str(rows[0][0])

    intact = run("audit", "verify")
    assert intact.exit_code == 0, intact.output
    # user.create (global) + two membership.set (company chain)
    assert "OK: 3 entries in 2 chains" in intact.output

    _execute(
        database,
        "UPDATE audit_log SET new_values = :v WHERE action = 'membership.set' AND seq = 2",
        v='{"roles": ["admin"]}',
    )
    broken = run("audit", "verify")
    assert broken.exit_code == 1
    assert "content does not match its hash (edited)" in broken.output
    assert "Traceback" not in broken.output


def test_a_deleted_entry_is_caught_too(database: str) -> None:
    assert run("migrate").exit_code == 0
    for name in ("u1", "u2", "u3"):
        assert run("users", "create", name, "--password", "pw").exit_code == 0
    _execute(database, "DELETE FROM audit_log WHERE seq = 2")
    broken = run("audit", "verify")
    assert broken.exit_code == 1
    assert "missing" in broken.output


def test_errors_are_one_clear_line_and_exit_1(database: str) -> None:
    unmigrated = run("users", "create", "bob", "--password", "pw")
    assert unmigrated.exit_code == 1
    assert "companion migrate" in unmigrated.output
    assert "Traceback" not in unmigrated.output

    assert run("migrate").exit_code == 0
    _add_company(database, "acme", "BDT")
    assert run("users", "create", "bob", "--password", "pw").exit_code == 0
    cases = [
        (("users", "create", "bob", "--password", "pw"), "taken"),
        (("users", "create", "bad name", "--password", "pw"), "username"),
        (("users", "add-to-company", "nobody", "acme", "--roles", "viewer"), "not found"),
        (("users", "add-to-company", "bob", "initech", "--roles", "viewer"), "initech"),
        (("users", "add-to-company", "bob", "acme", "--roles", "wizard"), "wizard"),
        (("users", "set-roles", "bob", "acme", "--roles", "viewer"), "add-to-company"),
    ]
    for args, expected in cases:
        result = run(*args)
        assert result.exit_code == 1, (args, result.output)
        assert expected in result.output, (args, result.output)
        assert "Traceback" not in result.output
    assert run("users", "add-to-company", "bob", "acme", "--roles", "viewer").exit_code == 0
    again = run("users", "add-to-company", "bob", "acme", "--roles", "viewer")
    assert again.exit_code == 1 and "set-roles" in again.output


def test_a_missing_secret_outside_demo_mode_is_a_clear_error(
    database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("COMPANION_AUTH__SECRET_KEY")
    get_settings.cache_clear()
    result = run("migrate")
    assert result.exit_code == 1
    assert "COMPANION_AUTH__SECRET_KEY" in result.output
    assert "Traceback" not in result.output


def test_serve_refuses_an_unmigrated_database(database: str) -> None:
    result = run("serve", "--port", "1")
    assert result.exit_code == 1
    assert "companion migrate" in result.output
