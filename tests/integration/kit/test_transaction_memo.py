"""kit.db.TransactionMemo on real SQLite and PostgreSQL sessions: a value kept for the
session's current transaction is seen there under its key only; a commit or rollback ends it.
"""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from companion.kit.db import TransactionMemo, begin_reading, begin_writing

MEMO: TransactionMemo[str | None] = TransactionMemo("test_transaction_memo")


def _read(session: Session) -> None:
    session.execute(text("SELECT 1"))  # the memo is for a transaction that has begun


def _seen(session: Session, key: object) -> str | None:
    kept = MEMO.get(session, key)
    assert kept is not None, f"nothing kept under {key!r}"
    return kept.value


def test_kept_under_its_key_for_the_transaction_and_a_commit_ends_it(session: Session) -> None:
    _read(session)
    MEMO.put(session, ("acme", 7), "kept")
    assert _seen(session, ("acme", 7)) == "kept"
    assert _seen(session, ("acme", 7)) == "kept"  # get leaves it kept
    assert MEMO.get(session, ("acme", 8)) is None
    assert MEMO.get(session, ("globex", 7)) is None
    with session.begin_nested():  # a savepoint is still the same transaction
        assert _seen(session, ("acme", 7)) == "kept"
    session.commit()
    _read(session)
    assert MEMO.get(session, ("acme", 7)) is None
    MEMO.put(session, ("acme", 7), "again")
    assert _seen(session, ("acme", 7)) == "again"


def test_a_rollback_ends_it(session: Session) -> None:
    _read(session)
    MEMO.put(session, "key", "kept")
    session.rollback()
    assert MEMO.get(session, "key") is None  # no transaction yet
    _read(session)
    assert MEMO.get(session, "key") is None


def test_none_is_a_value_and_take_uses_it_once(session: Session) -> None:
    _read(session)
    MEMO.put(session, "key", None)
    kept = MEMO.take(session, "key")
    assert kept is not None and kept.value is None  # "there is none" was read and kept
    assert MEMO.take(session, "key") is None
    MEMO.put(session, "key", "kept")
    assert MEMO.take(session, "other") is None  # another key: not seen, and dropped too
    assert MEMO.get(session, "key") is None


def test_put_replaces_and_clear_drops(session: Session) -> None:
    _read(session)
    MEMO.put(session, "first", "one")
    MEMO.put(session, "second", "two")
    assert MEMO.get(session, "first") is None
    assert _seen(session, "second") == "two"
    MEMO.clear(session)
    assert MEMO.get(session, "second") is None
    MEMO.clear(session)  # nothing kept: nothing to drop


def test_another_session_never_sees_it(session: Session, engine: Engine) -> None:
    _read(session)
    MEMO.put(session, "key", "kept")
    with Session(engine) as other:
        _read(other)
        assert MEMO.get(other, "key") is None


def test_sqlite_write_phase_reads_afresh(engine: Engine, backend: str) -> None:
    """SQLite's write phase is a new transaction (the memo ends); PostgreSQL's carries on."""
    with Session(engine) as session:
        begin_reading(session)
        _read(session)
        MEMO.put(session, "key", "read while reading")
        began = begin_writing(session)
        assert began is (backend == "sqlite")
        kept = MEMO.get(session, "key")
        if began:
            assert kept is None
        else:
            assert kept is not None and kept.value == "read while reading"
        session.rollback()


@pytest.mark.parametrize("put_first", [True, False])
def test_no_transaction_yet_is_not_the_next_one(session: Session, put_first: bool) -> None:
    """A value kept before the session's transaction began is not seen inside it."""
    session.commit()
    assert session.get_transaction() is None
    if put_first:
        MEMO.put(session, "key", "before")
        _read(session)
        assert MEMO.get(session, "key") is None
    else:
        _read(session)
        MEMO.put(session, "key", "inside")
        session.commit()
        assert MEMO.get(session, "key") is None
