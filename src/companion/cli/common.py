"""What every command shares: consoles, clear failures, the container, a unit of work."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from companion.bootstrap import Container, bootstrap
from companion.errors import CompanionError
from companion.kit import migrate as migrations
from companion.kit.db import session_scope

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)
CLI_ACTOR = "cli"


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print ``message`` on stderr; raise the returned ``Exit`` to stop with ``code``."""
    err.print(f"[red]Error:[/red] {escape(message)}")
    return typer.Exit(code)


@contextmanager
def cli_errors() -> Iterator[None]:
    """Known failures become one clear line on stderr and exit code 1, not a traceback."""
    try:
        yield
    except CompanionError as exc:
        raise fail(exc.message) from exc
    except ValidationError as exc:
        first = exc.errors()[0]
        raise fail(f"Invalid configuration: {first.get('msg', exc)}") from exc
    except SQLAlchemyError as exc:
        raise fail(f"Database error: {exc.__class__.__name__}: {str(exc).splitlines()[0]}") from exc


def container() -> Container:
    """The process's container, from the environment."""
    return bootstrap()


@contextmanager
def migrated_container() -> Iterator[Container]:
    """The process's container on a database checked to be migrated; disposed after."""
    c = container()
    try:
        migrations.ensure_current(c.engine)
        yield c
    finally:
        c.engine.dispose()


@contextmanager
def unit_of_work(*, migrated: bool = True) -> Iterator[Session]:
    """A committed session on the configured database (checked to be migrated)."""
    c = container()
    try:
        if migrated:
            migrations.ensure_current(c.engine)
        with session_scope(c.session_factory) as session:
            yield session
    finally:
        c.engine.dispose()
