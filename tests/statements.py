"""The SQL a test's session sends inside a block, as the database sees it (a SQLAlchemy
``before_cursor_execute`` listener on the session's connection)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session


@contextmanager
def statements_sent(session: Session, keep: Callable[[str], bool]) -> Iterator[list[str]]:
    """The statements ``keep`` accepts that run inside the block, in order."""
    seen: list[str] = []

    def note(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if keep(statement.lstrip()):
            seen.append(statement)

    bind = session.connection()
    event.listen(bind, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(bind, "before_cursor_execute", note)


def account_reads(statement: str) -> bool:
    """A SELECT of the chart of accounts."""
    return statement.startswith("SELECT") and "FROM accounts" in statement
