"""kit.after_commit on real SQLite and PostgreSQL sessions: commit releases, rollback drops."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from companion.kit.after_commit import after_commit


def test_a_commit_releases_the_queue_in_order_once(session: Session) -> None:
    ran: list[str] = []
    after_commit(session, lambda: ran.append("first"))
    after_commit(session, lambda: ran.append("second"))
    session.flush()
    assert ran == []
    session.commit()
    assert ran == ["first", "second"]
    session.commit()
    assert ran == ["first", "second"]


def test_a_rollback_drops_the_queue(session: Session) -> None:
    ran: list[str] = []
    session.connection()  # callers queue after a flush, inside a transaction
    after_commit(session, lambda: ran.append("rolled back"))
    session.rollback()
    session.commit()
    assert ran == []
    after_commit(session, lambda: ran.append("next transaction"))
    session.commit()
    assert ran == ["next transaction"]


def test_savepoints_release_nothing_early_and_drop_only_their_own(session: Session) -> None:
    ran: list[str] = []
    session.commit()
    after_commit(session, lambda: ran.append("outer"))
    with pytest.raises(ValueError), session.begin_nested():
        after_commit(session, lambda: ran.append("rolled back savepoint"))
        raise ValueError("the savepoint is rolled back")
    with session.begin_nested():
        after_commit(session, lambda: ran.append("released savepoint"))
        with session.begin_nested():
            after_commit(session, lambda: ran.append("inner savepoint"))
    assert ran == []
    session.commit()
    assert ran == ["outer", "released savepoint", "inner savepoint"]


def test_a_failing_action_is_logged_and_the_rest_still_run(
    session: Session, caplog: pytest.LogCaptureFixture
) -> None:
    ran: list[str] = []

    def broken() -> None:
        raise RuntimeError("peer down")

    after_commit(session, broken, failure="telling the peer failed")
    after_commit(session, lambda: ran.append("after the failure"))
    session.commit()
    assert ran == ["after the failure"]
    assert "telling the peer failed" in caplog.text
    assert "RuntimeError: peer down" in caplog.text


def test_each_session_has_its_own_queue(session: Session) -> None:
    ran: list[str] = []
    other = Session(bind=session.get_bind())
    try:
        after_commit(other, lambda: ran.append("other"))
        session.commit()
        assert ran == []
    finally:
        other.close()
