"""Purge on both databases: after it, no table holds the purged text; the receipt is audited."""

from __future__ import annotations

import datetime as dt
import json
import threading
from typing import Any

import pytest
from sqlalchemy import JSON, String, Text, cast, delete, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

import companion.assistant.memory.stores  # noqa: F401  (the conversation store)
from companion.assistant.learning.models import (
    Dataset,
    MessageFeedback,
    TelemetryEvent,
    TrainingExample,
)
from companion.assistant.models import Conversation, Message
from companion.audit import service as audit
from companion.audit.models import AuditEntry, AuditHead
from companion.auth.models import User
from companion.errors import PermissionDenied, ValidationFailed
from companion.governance.memory import purge as purging
from companion.governance.memory import service as memories
from companion.governance.memory.models import Memory, PurgeReceipt
from companion.kit.db import begin_for_writing
from companion.models import Base
from companion.tenancy.models import Company, Membership
from factories import make_company, make_context

NOW = dt.datetime(2026, 3, 15, 10, 0, tzinfo=dt.UTC)
SECRET = "Zebrafish Holdings wants invoices sent to the Gulshan office"


def holders(session: Session, text: str) -> list[str]:
    """Every table.column whose value contains ``text`` (every text and JSON column)."""
    found = []
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            kind = getattr(column.type, "impl", column.type)
            if not isinstance(kind, String | JSON):  # Text is a String
                continue
            hits = session.execute(
                select(func.count())
                .select_from(table)
                .where(cast(column, Text).contains(text, autoescape=True))
            ).scalar_one()
            if hits:
                found.append(f"{table.name}.{column.name}")
    return found


def _said(session: Session, ctx: Any, text: str) -> Conversation:
    """A chat conversation in which the user asked to remember ``text``, as a turn records it,
    with what the learning loop keeps of it (an event, feedback, an example, an export)."""
    conversation = Conversation(
        company_id=ctx.company_id,
        user_id=ctx.user_id,
        title=f"remember that {text}"[:200],
        last_seq=3,
    )
    session.add(conversation)
    session.flush()
    asked = Message(
        company_id=ctx.company_id,
        conversation_id=conversation.id,
        seq=1,
        role="user",
        content=f"remember that {text}",
        intent="remember",
    )
    reply = Message(
        company_id=ctx.company_id,
        conversation_id=conversation.id,
        seq=2,
        role="assistant",
        content=f"I'll remember that: “{text}”.",
        intent="remember",
        entities={"note": text},
    )
    other = Message(
        company_id=ctx.company_id,
        conversation_id=conversation.id,
        seq=3,
        role="user",
        content="what's our cash balance?",
        intent="cash_balance",
    )
    session.add_all([asked, reply, other])
    session.flush()
    session.add_all(
        [
            TelemetryEvent(
                company_id=ctx.company_id,
                user_id=ctx.user_id,
                kind="chat_turn",
                message_id=reply.id,
                data={"text": f"remember that {text}"},
            ),
            MessageFeedback(
                company_id=ctx.company_id, message_id=reply.id, user_id=ctx.user_id, thumbs=1
            ),
            TrainingExample(
                company_id=ctx.company_id,
                message_id=asked.id,
                text=f"remember that {text}",
                intent="remember",
                kinds=["correction"],
            ),
            Dataset(
                company_id=ctx.company_id,
                version=1,
                count=1,
                sha256="0" * 64,
                manifest={"messages": [asked.id]},
                chat_jsonl=json.dumps({"messages": [{"content": f"remember that {text}"}]}),
                rasa_yaml=f"- remember that {text}",
            ),
        ]
    )
    memories.remember(session, ctx, text, now=NOW, conversation_id=conversation.id)
    session.flush()
    return conversation


def test_a_users_purge_leaves_the_text_nowhere(session: Session) -> None:
    acme, globex = make_company(session, "acme", "BDT"), make_company(session, "globex")
    sales, finance = (
        make_context(session, acme, ["sales"]),
        make_context(session, acme, ["finance"]),
    )
    other = make_context(session, globex, ["sales"])
    kept_conversation = _said(session, sales, SECRET)
    memories.remember(session, finance, f"finance also knows: {SECRET}", now=NOW)
    memories.remember(session, other, SECRET, now=NOW)
    before = holders(session, SECRET)
    for place in (
        "memories.text",
        "messages.content",
        "conversations.title",
        "telemetry_events.data",
        "training_examples.text",
        "learning_datasets.chat_jsonl",
    ):
        assert place in before, place

    receipt = purging.purge(session, sales, purging.PurgeRequest(user_id=sales.user_id), now=NOW)

    assert receipt["removed"]["memories"] == 1
    assert receipt["removed"]["conversations"] == 2  # the request and the reply, blanked
    # The event, the feedback on the blanked reply, the example and the exported version.
    assert receipt["removed"]["learning"] == 4
    assert receipt["digest"] == purging.receipt_digest(receipt)
    # The caller's own text is gone from every table; the conversation's other turn stays.
    left = (
        session.execute(select(Memory.user_id).where(Memory.text.contains(SECRET))).scalars().all()
    )
    assert sorted(left) == sorted([finance.user_id, other.user_id])  # theirs, not purged
    contents = (
        session.execute(
            select(Message.content).where(Message.conversation_id == kept_conversation.id)
        )
        .scalars()
        .all()
    )
    assert "what's our cash balance?" in contents and not any(SECRET in c for c in contents)
    # The audit chain records the receipt (digest, counts, criteria) and is intact.
    entry = session.execute(
        select(AuditEntry).where(AuditEntry.action == "memory.purge")
    ).scalar_one()
    assert entry.new_values["digest"] == receipt["digest"] and entry.seq == receipt["audit_seq"]
    assert session.get(PurgeReceipt, receipt["id"]).digest == receipt["digest"]
    assert audit.verify(session).ok


def test_purging_conversations_and_a_category_removes_them_whole(session: Session) -> None:
    acme = make_company(session, "acme", "BDT")
    sales, admin = make_context(session, acme, ["sales"]), make_context(session, acme, ["admin"])
    _said(session, sales, SECRET)
    memories.remember(session, sales, "remind me to call Rupsha", now=NOW, kind="reminder")
    receipt = purging.purge(
        session, sales, purging.PurgeRequest(user_id=sales.user_id, conversations=True), now=NOW
    )
    assert receipt["removed"]["memories"] == 2
    assert holders(session, SECRET) == []
    assert session.execute(select(func.count()).select_from(Conversation)).scalar_one() == 0
    # By category (an admin's purge across users): only reminders go.
    memories.remember(session, sales, "remind me to chase INV-1", now=NOW, kind="reminder")
    memories.remember(session, sales, "I like short answers", now=NOW, kind="preference")
    by_kind = purging.purge(session, admin, purging.PurgeRequest(kinds=("reminder",)), now=NOW)
    assert by_kind["removed"]["memories"] == 1
    assert [m.kind for m in memories.list_memories(session, sales, NOW)[0]] == ["preference"]
    # By date: what was made before the cut-off.
    later = NOW + dt.timedelta(days=1)
    memories.remember(session, sales, "new fact", now=later)
    by_date = purging.purge(session, admin, purging.PurgeRequest(before=later), now=later)
    assert by_date["removed"]["memories"] == 1
    assert [m.text for m in memories.list_memories(session, sales, later)[0]] == ["new fact"]


def test_a_purge_is_refused_when_empty_unknown_or_someone_elses(session: Session) -> None:
    acme = make_company(session, "acme", "BDT")
    sales, finance = (
        make_context(session, acme, ["sales"]),
        make_context(session, acme, ["finance"]),
    )
    with pytest.raises(ValidationFailed):
        purging.purge(session, sales, purging.PurgeRequest(), now=NOW)
    with pytest.raises(ValidationFailed):
        purging.purge(session, sales, purging.PurgeRequest(kinds=("secrets",)), now=NOW)
    with pytest.raises(PermissionDenied):
        purging.purge(session, sales, purging.PurgeRequest(user_id=finance.user_id), now=NOW)
    with pytest.raises(PermissionDenied):
        purging.purge(session, sales, purging.PurgeRequest(kinds=("fact",)), now=NOW)


def test_a_store_another_package_registers_is_purged_too(session: Session) -> None:
    acme = make_company(session, "acme", "BDT")
    sales = make_context(session, acme, ["sales"])
    memories.remember(session, sales, SECRET, now=NOW)
    seen: list[list[str]] = []

    class ExportStore:
        name = "exported_datasets"

        def purge(self, session: Session, ctx: Any, scope: purging.PurgeScope) -> int:
            seen.append(list(scope.texts))
            return 3

    receipt = purging.purge(
        session,
        sales,
        purging.PurgeRequest(user_id=sales.user_id),
        now=NOW,
        extra_stores=[ExportStore()],
    )
    assert receipt["removed"]["exported_datasets"] == 3 and seen == [[SECRET]]


def test_the_same_memory_sent_twice_at_once_is_stored_once(engine: Engine) -> None:
    """Two transactions at the same moment (real commits; cleaned up after)."""
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    with factory() as setup:
        company = make_company(setup, "race-co", "BDT")
        ctx = make_context(setup, company, ["sales"], username="race-user")
        setup.commit()
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def submit() -> None:
        try:
            with factory() as session:
                barrier.wait(timeout=10)
                begin_for_writing(session)  # as a request that writes does
                memories.remember(session, ctx, "Race Traders pays on the 10th", now=NOW)
                session.commit()
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=submit) for _ in range(2)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        with factory() as check:
            texts = (
                check.execute(select(Memory.text).where(Memory.company_id == company.id))
                .scalars()
                .all()
            )
        assert not errors, errors
        assert texts == ["Race Traders pays on the 10th"]
    finally:
        with factory() as cleanup:
            for model in (Memory, AuditEntry):
                cleanup.execute(delete(model).where(model.company_id == company.id))
            cleanup.execute(delete(AuditHead).where(AuditHead.chain == f"company:{company.id}"))
            cleanup.execute(delete(Membership).where(Membership.company_id == company.id))
            cleanup.execute(delete(User).where(User.id == ctx.user_id))
            cleanup.execute(delete(Company).where(Company.id == company.id))
            cleanup.commit()
