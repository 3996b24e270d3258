"""Writers of one process queue for SQLite's write lock in order (``kit.db.WriterQueue``).

SQLite's busy handler makes waiting writers sleep and retry, so the lock is taken by whoever
retries first, after sleeps of up to 100 ms; the queue hands it over in arrival order the
moment it is given back. On PostgreSQL, which takes concurrent writers, there is no queue:
concurrent write transactions simply never come back "busy" there either.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from companion.kit.db import (
    WriterQueue,
    begin_for_writing,
    is_lock_timeout,
    make_engine,
    make_session_factory,
    writer_queue,
)


@pytest.fixture
def table(engine: Engine) -> Iterator[str]:
    name = f"writers_{uuid.uuid4().hex[:8]}"
    with engine.begin() as conn:
        conn.execute(text(f"CREATE TABLE {name} (n integer NOT NULL, who text NOT NULL)"))
    yield name
    with engine.begin() as conn:
        conn.execute(text(f"DROP TABLE {name}"))


def _sqlite(tmp_path: Path, busy_timeout_s: float = 10.0) -> tuple[Engine, str]:
    engine = make_engine(f"sqlite:///{tmp_path / 'writers.db'}", busy_timeout_s=busy_timeout_s)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE notes (n integer NOT NULL, who text NOT NULL)"))
    return engine, "notes"


def _wait_for(condition: Callable[[], bool], timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.002)


def test_concurrent_writers_never_come_back_busy(engine: Engine, backend: str, table: str) -> None:
    """Eight threads, each reading the row count then writing under the write intent."""
    factory = make_session_factory(engine)
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def writer(who: int) -> None:
        try:
            start.wait(timeout=10)
            for _ in range(10):
                with factory() as session:
                    begin_for_writing(session)
                    # A read then a write in one transaction: on SQLite a deferred one would
                    # fail at once ("database is locked") when another wrote in between.
                    count = session.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
                    session.execute(
                        text(f"INSERT INTO {table} (n, who) VALUES (:n, :who)"),
                        {"n": count, "who": str(who)},
                    )
                    session.commit()
        except BaseException as exc:  # collected for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    with engine.connect() as conn:
        rows = conn.execute(text(f"SELECT n FROM {table}")).scalars().all()
    assert len(rows) == 80
    if backend == "sqlite":  # one writer at a time: each saw every write before it
        assert sorted(rows) == list(range(80))
        queue = writer_queue(engine)
        assert queue is not None and queue.holder is None
    else:
        assert writer_queue(engine) is None


def test_waiting_writers_get_the_lock_in_the_order_they_asked(tmp_path: Path) -> None:
    engine, table = _sqlite(tmp_path)
    queue = writer_queue(engine)
    assert queue is not None
    factory = make_session_factory(engine)
    holder = factory()
    begin_for_writing(holder)
    holder.execute(text(f"INSERT INTO {table} (n, who) VALUES (0, 'holder')"))
    errors: list[BaseException] = []

    def writer(who: int) -> None:
        try:
            with factory() as session:
                begin_for_writing(session)
                session.execute(
                    text(f"INSERT INTO {table} (n, who) VALUES (:n, 'waiter')"), {"n": who}
                )
                session.commit()
        except BaseException as exc:  # collected for the assertion below
            errors.append(exc)

    threads = []
    try:
        for who in range(1, 7):  # each one queued before the next asks
            thread = threading.Thread(target=writer, args=(who,))
            thread.start()
            threads.append(thread)
            _wait_for(lambda who=who: queue.waiting == who)  # type: ignore[misc]
        holder.commit()
    finally:
        holder.close()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    with engine.connect() as conn:
        order = conn.execute(text(f"SELECT n FROM {table} ORDER BY rowid")).scalars().all()
    assert order == [0, 1, 2, 3, 4, 5, 6]
    engine.dispose()


def test_a_writer_queued_past_the_busy_timeout_is_a_lock_timeout(tmp_path: Path) -> None:
    engine, table = _sqlite(tmp_path, busy_timeout_s=0.3)
    factory = make_session_factory(engine)
    holder = factory()
    begin_for_writing(holder)
    late: Session = factory()
    try:
        started = time.monotonic()
        with pytest.raises(OperationalError) as caught:
            begin_for_writing(late)
        assert time.monotonic() - started >= 0.25
        assert is_lock_timeout(caught.value)  # answered 503 database_busy, not 500
        late.rollback()
        # A transaction that ends without a commit gives the lock back too.
        holder.close()
        begin_for_writing(late)
        late.execute(text(f"INSERT INTO {table} (n, who) VALUES (1, 'late')"))
        late.commit()
    finally:
        late.close()
        holder.close()
    queue = writer_queue(engine)
    assert queue is not None and queue.holder is None and queue.waiting == 0
    engine.dispose()


def test_the_queue_hands_over_in_order_and_gives_up_after_its_timeout() -> None:
    queue = WriterQueue()
    first, second, third = object(), object(), object()
    assert queue.acquire(first, 1.0)
    assert not queue.acquire(second, 0.05)  # timed out: no longer waiting
    assert queue.waiting == 0
    got: list[object] = []

    def take(holder: object) -> None:
        if queue.acquire(holder, 10.0):
            got.append(holder)
            queue.release(holder)

    threads = [threading.Thread(target=take, args=(h,)) for h in (second, third)]
    threads[0].start()
    _wait_for(lambda: queue.waiting == 1)
    threads[1].start()
    _wait_for(lambda: queue.waiting == 2)
    assert not queue.release(second)  # only the holder gives it back
    assert queue.release(first)
    for thread in threads:
        thread.join(timeout=10)
    assert got == [second, third]
    assert queue.holder is None
