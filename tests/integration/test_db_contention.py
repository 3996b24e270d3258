"""Lock contention is told apart from faults on both databases (it becomes a 503, not a 500).

PostgreSQL: a real deadlock between two connections; SQLite: a real writer holding the file.
"""

from __future__ import annotations

import sqlite3
import threading
import uuid
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, OperationalError

from companion.kit.db import is_lock_timeout, make_engine


def _pg_deadlock(engine: Engine) -> OperationalError:
    """Two transactions taking two rows in opposite order: PostgreSQL aborts one of them."""
    table = f"contention_{uuid.uuid4().hex[:8]}"
    with engine.begin() as conn:
        conn.execute(text(f"CREATE TABLE {table} (id int PRIMARY KEY, v int)"))
        conn.execute(text(f"INSERT INTO {table} VALUES (1, 0), (2, 0)"))
    both_hold = threading.Barrier(2)
    errors: list[OperationalError] = []

    def take(first: int, second: int) -> None:
        with engine.connect() as conn:
            trans = conn.begin()
            try:
                conn.execute(text(f"UPDATE {table} SET v = v + 1 WHERE id = {first}"))
                both_hold.wait(timeout=10)
                conn.execute(text(f"UPDATE {table} SET v = v + 1 WHERE id = {second}"))
                trans.commit()
            except OperationalError as exc:
                errors.append(exc)
                trans.rollback()

    try:
        threads = [threading.Thread(target=take, args=pair) for pair in ((1, 2), (2, 1))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    finally:
        with engine.begin() as conn:
            conn.execute(text(f"DROP TABLE {table}"))
    assert len(errors) == 1, errors
    return errors[0]


def test_contention_is_a_retry_and_other_errors_are_not(
    engine: Engine, backend: str, tmp_path: Path
) -> None:
    if backend == "postgresql":
        error = _pg_deadlock(engine)
        assert getattr(error.orig, "sqlstate", None) == "40P01"
    else:
        path = tmp_path / "held.db"
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("CREATE TABLE t (id int)")
        holder.execute("BEGIN IMMEDIATE")  # another process's writer, holding on
        waiter = make_engine(f"sqlite:///{path}", busy_timeout_s=0.1)
        try:
            with pytest.raises(OperationalError) as caught, waiter.begin() as other:
                other.exec_driver_sql("INSERT INTO t VALUES (1)")
        finally:
            holder.rollback()
            holder.close()
            waiter.dispose()
        error = caught.value
    assert is_lock_timeout(error)
    with engine.connect() as conn, pytest.raises(DBAPIError) as wrong:
        conn.execute(text("SELECT * FROM no_such_table_here"))
    assert not is_lock_timeout(wrong.value)
