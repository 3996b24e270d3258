"""A session's phase that only reads (``begin_reading``) and the write transaction after it.

A write in the reading phase fails loudly on every database; on SQLite the reading takes no
lock (another writer commits meanwhile) and ``begin_writing`` starts a fresh write
transaction, so the write that follows never meets a stale snapshot.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from companion.kit.db import (
    WriteWhileReading,
    begin_reading,
    begin_writing,
    is_reading,
    make_engine,
    make_session_factory,
)
from companion.tenancy.models import Company
from factories import make_company


def test_a_write_while_reading_fails_loudly_and_is_fine_once_writing(session: Session) -> None:
    company = make_company(session, "acme", "BDT")
    begin_reading(session)
    assert is_reading(session)
    assert session.execute(select(func.count()).select_from(Company)).scalar_one() >= 1
    session.add(Company(slug="globex", name="Globex", base_currency="USD"))
    with pytest.raises(WriteWhileReading, match="Company"):
        session.flush()
    session.expunge_all()
    company = session.get(Company, company.id)
    assert company is not None
    company.name = "Renamed"
    with pytest.raises(WriteWhileReading):
        session.flush()
    with pytest.raises(WriteWhileReading):
        session.execute(update(Company).where(Company.id == company.id).values(name="Other"))
    with pytest.raises(WriteWhileReading):
        session.execute(text("DELETE FROM companies WHERE id = -1"))
    # Joined to the test's transaction: the same transaction goes on, now allowed to write.
    assert begin_writing(session) is False
    assert not is_reading(session)
    session.flush()
    assert session.get(Company, company.id).name == "Renamed"  # type: ignore[union-attr]


def test_on_sqlite_reading_takes_no_lock_and_writing_starts_afresh(tmp_path: Path) -> None:
    path = tmp_path / "phases.db"
    engine = make_engine(f"sqlite:///{path}", busy_timeout_s=0.5)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE notes (body TEXT)"))
    factory = make_session_factory(engine)
    other = sqlite3.connect(path, timeout=0.5, isolation_level=None)
    try:
        with factory() as session:
            begin_reading(session)
            assert session.execute(text("SELECT count(*) FROM notes")).scalar_one() == 0
            # Mid-reading, another connection takes the write lock and commits at once.
            other.execute("BEGIN IMMEDIATE")
            other.execute("INSERT INTO notes VALUES ('theirs')")
            other.execute("COMMIT")
            assert begin_writing(session) is True
            session.execute(text("INSERT INTO notes VALUES ('ours')"))
            session.commit()
        with factory() as session:
            # A plain deferred transaction that read before another writer committed cannot
            # write: the busy timeout does not help it. This is what begin_writing avoids.
            assert session.execute(text("SELECT count(*) FROM notes")).scalar_one() == 2
            other.execute("BEGIN IMMEDIATE")
            other.execute("INSERT INTO notes VALUES ('theirs again')")
            other.execute("COMMIT")
            with pytest.raises(OperationalError, match="locked"):
                session.execute(text("INSERT INTO notes VALUES ('stale')"))
            session.rollback()
    finally:
        other.close()
        engine.dispose()
    check = sqlite3.connect(path)
    rows = sorted(r[0] for r in check.execute("SELECT body FROM notes"))
    check.close()
    assert rows == ["ours", "theirs", "theirs again"]
