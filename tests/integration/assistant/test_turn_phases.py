"""A chat turn reads, then records itself in a short write transaction (issue 18, part 1).

On a database of their own (committed data, several connections), on SQLite and PostgreSQL:
a data question leaves the write lock free while it answers; a turn that writes (a memory)
is still one transaction; concurrent turns of one conversation get consecutive seqs; a turn
records itself in few statements, its rows as they always were (a follow-up's numbers taken
by the conversation's UPDATE, no SELECT of messages); and a skill that writes
without saying so fails loudly instead of risking "database is locked".
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import event, func, select, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from companion.assistant.memory.phrases import is_memory_request
from companion.assistant.models import Conversation, Message
from companion.assistant.progress import Progress
from companion.assistant.schemas import ChatRequest, ChatResponse
from companion.assistant.service import Assistant
from companion.assistant.skills.base import _SKILLS, Answer, Turn, register
from companion.assistant.understanding import load_master
from companion.governance.memory.models import Memory
from companion.kit import migrate
from companion.kit.clock import FixedClock
from companion.kit.db import (
    WriteWhileReading,
    begin_for_writing,
    make_engine,
    make_session_factory,
    session_scope,
)
from companion.tenancy.context import RequestContext
from companion.tenancy.models import Company
from dbutil import new_database_url
from factories import make_company, make_context

NOW = dt.datetime(2026, 3, 15, 10, 0, tzinfo=dt.UTC)
SCRIBBLE = "scribble"  # a test skill's intent: one that writes without saying so


@dataclass
class Understood:
    intent: str
    confidence: float = 0.99
    entities: dict[str, Any] = field(default_factory=dict)


class WordsNLU:
    """Understands three messages: a memory, a scribble, and otherwise the cash balance."""

    def understand(self, session: Session, ctx: RequestContext, text: str, today: Any) -> Any:
        if is_memory_request(text):
            return Understood("remember")
        return Understood(SCRIBBLE if text.startswith(SCRIBBLE) else "cash_balance")

    def master(self, session: Session, ctx: RequestContext) -> Any:
        return load_master(session, ctx)


@dataclass
class World:
    url: str
    engine: Engine
    factory: sessionmaker[Session]
    ctx: RequestContext
    assistant: Assistant


@pytest.fixture(scope="module")
def world(
    backend: str, tmp_path_factory: pytest.TempPathFactory, pg_database_factory: list[str]
) -> Iterator[World]:
    url = new_database_url(backend, tmp_path_factory.mktemp("phases"), pg_database_factory)
    engine = make_engine(url)
    migrate.upgrade(engine)
    factory = make_session_factory(engine)
    with session_scope(factory) as session:
        ctx = make_context(session, make_company(session, "acme", "BDT"), ["finance"])
    yield World(url, engine, factory, ctx, Assistant(WordsNLU(), FixedClock(NOW)))
    engine.dispose()


def _turn(
    world: World, message: str, conversation: str | None = None, progress: Progress | None = None
) -> ChatResponse:
    """One turn in a session of its own, committed as the web layer commits it."""
    with session_scope(world.factory) as session:
        request = ChatRequest(message=message, conversation_id=conversation)
        return world.assistant.turn(session, world.ctx, request, progress)


def _on_step(step: str, action: Any) -> Progress:
    def emit(kind: str, data: dict[str, Any]) -> None:
        if kind == "status" and data["step"] == step:
            action()

    return Progress(emit)


def _sqlite_path(world: World) -> str:
    return str(world.engine.url.database)


def _messages(world: World, conversation: str) -> list[Message]:
    with world.factory() as session:
        stmt = select(Message).where(Message.conversation_id == conversation)
        return list(session.execute(stmt.order_by(Message.seq)).scalars())


def test_a_data_question_leaves_the_write_lock_free_while_it_answers(world: World) -> None:
    probe = make_engine(world.url, busy_timeout_s=1.0)  # a writer that will not wait long
    written: list[str] = []

    def another_writer() -> None:
        # Mid-answer (the query running): another connection writes and commits.
        with session_scope(make_session_factory(probe)) as session:
            begin_for_writing(session)
            stmt = update(Company).where(Company.id == world.ctx.company_id)
            session.execute(stmt.values(name="Acme Trading"))
        written.append("committed")

    try:
        first = _turn(
            world, "what's our cash balance?", progress=_on_step("querying", another_writer)
        )
        again = _turn(
            world,
            "and the cash balance now?",
            first.conversation_id,
            _on_step("querying", another_writer),
        )
    finally:
        probe.dispose()
    assert written == ["committed", "committed"]
    assert first.intent == again.intent == "cash_balance"
    # The turns were recorded after the other writer's commits, in their own transactions.
    recorded = _messages(world, first.conversation_id)
    assert [(m.seq, m.role) for m in recorded] == [
        (1, "user"),
        (2, "assistant"),
        (3, "user"),
        (4, "assistant"),
    ]
    assert recorded[3].id == again.message_id


def test_a_memory_turn_is_one_write_transaction(world: World) -> None:
    held: list[bool] = []

    def try_the_lock() -> None:
        # Recording: on SQLite the write lock has been held since before the memory was kept.
        if world.engine.dialect.name != "sqlite":
            return
        other = sqlite3.connect(_sqlite_path(world), timeout=0.2, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
            held.append(False)
        except sqlite3.OperationalError as exc:
            held.append("locked" in str(exc))
        finally:
            other.close()

    response = _turn(
        world,
        "remember that our auditor is Rahman & Co",
        progress=_on_step("recording", try_the_lock),
    )
    assert response.skill == "memory"
    if world.engine.dialect.name == "sqlite":
        assert held == [True]
    with world.factory() as session:
        kept = session.execute(select(Memory).where(Memory.text.contains("Rahman"))).scalars()
        assert len(list(kept)) == 1
    assert len(_messages(world, response.conversation_id)) == 2

    def fail() -> None:
        raise RuntimeError("the recording failed")

    # A failure after the memory was kept takes the memory back with the turn: all or nothing.
    with pytest.raises(RuntimeError, match="recording failed"):
        _turn(world, "remember that our bank is Sonali Bank", progress=_on_step("recording", fail))
    with world.factory() as session:
        assert not list(
            session.execute(select(Memory).where(Memory.text.contains("Sonali"))).scalars()
        )
        titled = select(func.count()).where(Conversation.title.contains("Sonali"))
        assert session.execute(titled).scalar_one() == 0


def test_concurrent_turns_of_one_conversation_get_consecutive_seqs(world: World) -> None:
    racers = 4
    first = _turn(world, "what's our cash balance?")
    # On SQLite every racer is mid-answer at once (none holds a lock while reading); on
    # PostgreSQL the conversation's row lock still takes them one after the other.
    barrier = threading.Barrier(racers, timeout=20)
    on_sqlite = world.engine.dialect.name == "sqlite"
    errors: list[BaseException] = []
    answers: list[ChatResponse] = []

    def race(n: int) -> None:
        progress = _on_step("querying", barrier.wait) if on_sqlite else None
        try:
            answers.append(
                _turn(world, f"cash balance please ({n})", first.conversation_id, progress)
            )
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=race, args=(n,)) for n in range(racers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    recorded = _messages(world, first.conversation_id)
    assert [m.seq for m in recorded] == list(range(1, 2 * (racers + 1) + 1))
    pairs = list(zip(recorded[2::2], recorded[3::2], strict=True))
    assert all((user.role, reply.role) == ("user", "assistant") for user, reply in pairs)
    assert {reply.id for _, reply in pairs} == {a.message_id for a in answers}


def test_a_skill_that_writes_without_saying_so_fails_loudly(world: World) -> None:
    with _SKILLS.restored():

        @register(SCRIBBLE)
        class Scribbler:
            name = "scribbler"

            def handle(self, turn: Turn) -> Answer:
                company = turn.session.get(Company, turn.ctx.company_id)
                assert company is not None
                company.name = "Scribbled"
                turn.session.flush()
                return Answer(text="done", skill=self.name)

        with pytest.raises(WriteWhileReading, match="Company"):
            _turn(world, "scribble on the company's name")
    with world.factory() as session:
        assert session.get(Company, world.ctx.company_id).name != "Scribbled"  # type: ignore[union-attr]


def test_a_turn_records_itself_in_few_statements_and_the_same_rows(world: World) -> None:
    written: list[str] = []

    def note(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        words = statement.split()[:3]
        if words[0] in ("INSERT", "UPDATE") and {"conversations", "messages"} & set(words):
            written.append(" ".join(words))

    event.listen(world.engine, "before_cursor_execute", note)
    try:
        first = _turn(world, "what's our cash balance, to record?")
        begun = list(written)
        written.clear()
        again = _turn(world, "and the cash balance to record now?", first.conversation_id)
    finally:
        event.remove(world.engine, "before_cursor_execute", note)
    # A new conversation is inserted once, with its final state; both messages in one INSERT.
    assert begun == ["INSERT INTO conversations", "INSERT INTO messages"]
    assert written == ["UPDATE conversations SET", "INSERT INTO messages"]
    columns = "seq, role, content, intent, skill, latency_ms IS NULL, action_type"
    nulls = "data IS NULL, sources IS NULL, action_result IS NULL, entities IS NULL"
    with world.engine.connect() as conn:
        rows = conn.execute(
            text(
                f"SELECT id, {columns}, {nulls}, CAST(data AS TEXT), CAST(sources AS TEXT),"
                " CAST(action_result AS TEXT), created_at FROM messages"
                " WHERE conversation_id = :c ORDER BY seq"
            ),
            {"c": first.conversation_id},
        ).all()
        conversation = conn.execute(
            text("SELECT title, state, created_at, updated_at FROM conversations WHERE id = :c"),
            {"c": first.conversation_id},
        ).one()
    answer_text = first.message
    # The user's message leaves the answer's columns SQL NULL; the answer's empty JSON columns
    # hold JSON null, as the unit of work always wrote them.
    user = (1, "user", "what's our cash balance, to record?", "cash_balance", None, True, None)
    assert rows[0][1:12] == (*user, True, True, True, False)
    reply = (2, "assistant", answer_text, "cash_balance", "data_query", False, None)
    assert rows[1][1:12] == (*reply, False, False, False, False)
    assert [r[13:15] for r in rows[1::2]] == [("null", "null")] * 2
    assert [json.loads(r[12])["columns"] for r in rows[1::2]] == [
        ["account", "bank", "balance"]
    ] * 2
    assert [r[1] for r in rows] == [1, 2, 3, 4]
    assert [rows[1][0], rows[3][0]] == [first.message_id, again.message_id]
    assert all(r[0] for r in rows) and len({r[0] for r in rows}) == 4
    assert conversation.title == "what's our cash balance, to record?"
    state = conversation.state  # PostgreSQL's driver decodes JSON; SQLite's gives the text
    assert (json.loads(state) if isinstance(state, str) else state) == {
        "intent": "cash_balance",
        "entities": {},
    }
    assert conversation.updated_at >= conversation.created_at


def test_a_follow_up_takes_its_numbers_in_the_conversations_update(world: World) -> None:
    first = _turn(world, "what's our cash balance, for the numbers?")
    seen: list[str] = []

    def note(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(" ".join(statement.split()))

    event.listen(world.engine, "before_cursor_execute", note)
    try:
        again = _turn(world, "and the cash balance for the numbers now?", first.conversation_id)
    finally:
        event.remove(world.engine, "before_cursor_execute", note)
    # One statement fewer than a SELECT max(seq) first: no read of messages at all.
    assert [s for s in seen if "messages" in s] == [
        next(s for s in seen if s.startswith("INSERT INTO messages"))
    ]
    updates = [s for s in seen if s.startswith("UPDATE conversations")]
    assert len(updates) == 1
    assert updates[0].endswith(("RETURNING last_seq", "RETURNING conversations.last_seq"))
    assert [(m.seq, m.role) for m in _messages(world, first.conversation_id)][2:] == [
        (3, "user"),
        (4, "assistant"),
    ]
    assert _messages(world, first.conversation_id)[3].id == again.message_id
    with world.factory() as session:
        conversation = session.get(Conversation, first.conversation_id)
        assert conversation is not None and conversation.last_seq == 4
