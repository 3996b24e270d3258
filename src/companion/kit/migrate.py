"""Applying and checking the Alembic migrations shipped inside the package."""

from __future__ import annotations

from functools import cache

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

from companion.errors import DatabaseNotMigrated


def alembic_config(url: str | None = None) -> Config:
    """An Alembic config pointing at ``companion/migrations``."""
    cfg = Config()
    cfg.set_main_option("script_location", "companion:migrations")
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database to ``revision`` (default: the newest)."""
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


@cache
def head_revision() -> str:
    """The newest revision shipped with this code (read once: the migration files that
    ship with the package do not change while it runs; each app's startup checks it)."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None when it was never migrated."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def ensure_current(engine: Engine) -> None:
    """Refuse to run on a database that is behind the code."""
    current, head = current_revision(engine), head_revision()
    if current != head:
        raise DatabaseNotMigrated(
            f"The database is at revision {current or 'none'} but the code needs {head}. "
            "Run `companion migrate` to apply the migrations.",
            details={"current": current, "head": head},
        )
