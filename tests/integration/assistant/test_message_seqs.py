"""A message's number in its conversation: unique, taken with the conversation's own UPDATE.

On databases of their own, SQLite and PostgreSQL: migration 0017 renumbers conversations
that hold duplicate numbers (in their order) and sets ``last_seq``; two turns that both read
the conversation before either records itself still get different numbers; and the
database refuses a number given twice.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Engine, inspect, select, text
from sqlalchemy.exc import IntegrityError

from companion.assistant import repository
from companion.assistant.models import Conversation, Message, new_id
from companion.kit import migrate
from companion.kit.db import begin_reading, begin_writing, make_engine, make_session_factory
from companion.tenancy.context import RequestContext
from dbutil import new_database_url
from factories import make_company, make_context


@pytest.fixture
def fresh(backend: str, tmp_path: Path, pg_database_factory: list[str]) -> Iterator[Engine]:
    """An empty database of its own (dropped at the run's end on PostgreSQL)."""
    engine = make_engine(new_database_url(backend, tmp_path, pg_database_factory))
    yield engine
    engine.dispose()


def _company(engine: Engine) -> RequestContext:
    with make_session_factory(engine)() as session, session.begin():
        return make_context(session, make_company(session, "acme", "BDT"), ["finance"])


# (conversation, message id, seq, created_at): "dup" holds each of 3 and 4 twice, "gaps" a
# purged pair in between (left as it is), "empty" nothing.
MESSAGES = [
    ("dup", "m1", 1, "2026-03-01 10:00:00"),
    ("dup", "m2", 2, "2026-03-01 10:00:00"),
    ("dup", "m4-late", 3, "2026-03-01 10:05:00"),
    ("dup", "m3-b", 3, "2026-03-01 10:01:00"),
    ("dup", "m3-a", 3, "2026-03-01 10:01:00"),
    ("dup", "m5", 4, "2026-03-01 10:06:00"),
    ("dup", "m6", 4, "2026-03-01 10:06:00"),
    ("gaps", "g1", 1, "2026-03-02 09:00:00"),
    ("gaps", "g2", 2, "2026-03-02 09:00:00"),
    ("gaps", "g5", 5, "2026-03-02 09:10:00"),
    ("gaps", "g6", 6, "2026-03-02 09:10:00"),
]


def test_the_migration_makes_numbers_unique_in_order_and_sets_last_seq(fresh: Engine) -> None:
    migrate.upgrade(fresh, "0016")
    ctx = _company(fresh)
    with fresh.begin() as conn:
        for conversation in ("dup", "gaps", "empty"):
            conn.execute(
                text(
                    "INSERT INTO conversations (id, company_id, user_id, title, created_at,"
                    " updated_at) VALUES (:id, :c, :u, 't', :at, :at)"
                ),
                {"id": conversation, "c": ctx.company_id, "u": ctx.user_id, "at": MESSAGES[0][3]},
            )
        for conversation, message, seq, at in MESSAGES:
            conn.execute(
                text(
                    "INSERT INTO messages (id, company_id, conversation_id, seq, role, content,"
                    " created_at) VALUES (:id, :c, :conv, :seq, 'user', 'x', :at)"
                ),
                {"id": message, "c": ctx.company_id, "conv": conversation, "seq": seq, "at": at},
            )

    migrate.upgrade(fresh)

    with fresh.connect() as conn:
        numbered = conn.execute(
            text("SELECT conversation_id, id, seq FROM messages ORDER BY conversation_id, seq")
        ).all()
        last = {
            r.id: r.last_seq for r in conn.execute(text("SELECT id, last_seq FROM conversations"))
        }
    # by (seq, created_at, id): the two 3s of 10:01 (a before b), the 3 of 10:05, then the 4s
    assert [(m, s) for c, m, s in numbered if c == "dup"] == [
        ("m1", 1),
        ("m2", 2),
        ("m3-a", 3),
        ("m3-b", 4),
        ("m4-late", 5),
        ("m5", 6),
        ("m6", 7),
    ]
    assert [(m, s) for c, m, s in numbered if c == "gaps"] == [
        ("g1", 1),
        ("g2", 2),
        ("g5", 5),
        ("g6", 6),
    ]
    assert last == {"dup": 7, "gaps": 6, "empty": 0}
    indexes = {i["name"]: i for i in inspect(fresh).get_indexes("messages")}
    assert indexes["ix_messages_conversation_id_seq"]["column_names"] == ["conversation_id", "seq"]
    assert indexes["ix_messages_conversation_id_seq"]["unique"]
    with pytest.raises(IntegrityError), fresh.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO messages (id, company_id, conversation_id, seq, role, content,"
                " created_at) VALUES ('again', :c, 'gaps', 6, 'user', 'x', :at)"
            ),
            {"c": ctx.company_id, "at": MESSAGES[0][3]},
        )

    cfg = migrate.alembic_config()
    with fresh.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0016")
    assert "last_seq" not in {c["name"] for c in inspect(fresh).get_columns("conversations")}
    names = {i["name"] for i in inspect(fresh).get_indexes("messages")}
    assert "ix_messages_conversation_id" in names
    assert "ix_messages_conversation_id_seq" not in names


def test_turns_that_read_before_either_records_get_different_numbers(fresh: Engine) -> None:
    migrate.upgrade(fresh)
    ctx = _company(fresh)
    factory = make_session_factory(fresh)
    with factory() as session, session.begin():
        conversation = Conversation(company_id=ctx.company_id, user_id=ctx.user_id, title="t")
        first = repository.take_seqs(session, conversation, 2)
        conversation_id = conversation.id
    assert first == 1
    racers = 2
    read = threading.Barrier(racers, timeout=20)
    taken: list[int] = []
    errors: list[BaseException] = []

    def record(n: int) -> None:
        try:
            with factory() as session:
                # As a turn does: read the conversation (no lock), then write.
                begin_reading(session)
                conv = repository.get_conversation(session, ctx, conversation_id)
                assert conv.last_seq == 2
                read.wait()
                begin_writing(session)
                seq = repository.take_seqs(session, conv, 2)
                repository.add_messages(
                    session, [_message(ctx, conv, seq, n), _message(ctx, conv, seq + 1, n)]
                )
                session.commit()
                taken.append(seq)
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=record, args=(n,)) for n in range(racers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert sorted(taken) == [3, 5]
    with factory() as session:
        seqs = session.execute(
            select(Message.seq).where(Message.conversation_id == conversation_id)
        ).scalars()
        assert sorted(seqs) == [3, 4, 5, 6]
        assert session.get(Conversation, conversation_id).last_seq == 6  # type: ignore[union-attr]


def _message(
    ctx: RequestContext, conversation: Conversation, seq: int, n: int
) -> dict[str, object]:
    return {
        "id": new_id(),
        "company_id": ctx.company_id,
        "conversation_id": conversation.id,
        "seq": seq,
        "role": "user",
        "content": f"racer {n}",
    }
