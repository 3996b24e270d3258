"""SQL for conversations and messages: always the caller's own, in the caller's company."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import JSON, Table, bindparam, func, insert, inspect, null, select
from sqlalchemy.orm import Session

from companion.assistant.models import Conversation, Message
from companion.errors import NotFound
from companion.kit.db import utcnow
from companion.tenancy.context import RequestContext, company_param, scoped, scoped_later

# Built once, run with parameters (see companion.kit.db): every follow-up turn reads it.
_CONVERSATION = scoped_later(select(Conversation), Conversation).where(
    Conversation.id == bindparam("conversation_id"), Conversation.user_id == bindparam("user_id")
)
# NO KEY UPDATE: foreign-key checks of rows that point here (ai_actions) still pass.
_CONVERSATION_FOR_UPDATE = _CONVERSATION.with_for_update(key_share=True).execution_options(
    populate_existing=True
)


def get_conversation(
    session: Session, ctx: RequestContext, conversation_id: str, *, for_update: bool = False
) -> Conversation:
    """The caller's conversation; another user's or company's is NotFound.

    ``for_update`` locks the row until the transaction ends (PostgreSQL; SQLite's write
    transaction already serialises writers), so two turns of one conversation run one after
    the other: each sees the draft and the proposals the other left. On SQLite turns that
    only read overlap, and each locks the conversation again to record itself (its state
    merged onto what is there then, its seqs taken by ``take_seqs``); turns that write still
    run one after the other.
    """
    stmt = _CONVERSATION_FOR_UPDATE if for_update else _CONVERSATION
    params = {**company_param(ctx), "conversation_id": conversation_id, "user_id": ctx.user_id}
    conv = session.execute(stmt, params).scalar_one_or_none()
    if conv is None:
        raise NotFound("Conversation not found", details={"conversation_id": conversation_id})
    return conv


def list_conversations(
    session: Session, ctx: RequestContext, *, limit: int, offset: int
) -> tuple[list[Conversation], int]:
    """The caller's conversations, newest first."""
    base = scoped(select(Conversation), Conversation, ctx).where(
        Conversation.user_id == ctx.user_id
    )
    total = session.execute(select(func.count()).select_from(base.subquery())).scalar_one()
    rows = session.execute(
        base.order_by(Conversation.updated_at.desc(), Conversation.id).limit(limit).offset(offset)
    ).scalars()
    return list(rows), int(total)


def messages_of(session: Session, conversation: Conversation) -> list[Message]:
    """A conversation's messages in order."""
    return list(
        session.execute(
            select(Message)
            .where(
                Message.conversation_id == conversation.id,
                Message.company_id == conversation.company_id,
            )
            .order_by(Message.seq)
        ).scalars()
    )


def take_seqs(session: Session, conversation: Conversation, count: int) -> int:
    """The first of the conversation's next ``count`` message numbers; flushes the conversation.

    Taken in the conversation's own UPDATE (``last_seq = last_seq + count``, returned by it),
    so two turns of one conversation never get the same numbers and no SELECT is sent. A
    conversation not stored yet is inserted once, with its numbers taken.
    """
    if inspect(conversation).persistent:
        conversation.last_seq = Conversation.last_seq + count
    else:
        conversation.last_seq = count
        session.add(conversation)
    session.flush()
    return conversation.last_seq - count + 1


def add_messages(session: Session, rows: list[dict[str, Any]]) -> None:
    """Store messages in one INSERT, each row as the unit of work would store it alone.

    The unit of work sends rows with different columns as separate INSERTs; one statement
    needs the same columns in every row. A column a row leaves out stays SQL NULL there
    (``null()``), as it would; a JSON column given None holds JSON ``null``, as it would.
    """
    table = cast(Table, Message.__table__)
    columns = dict.fromkeys(key for row in rows for key in row)  # in a steady order
    now = utcnow()
    values = [
        {"created_at": now}
        | {column: row[column] if column in row else _unset(table.c[column]) for column in columns}
        for row in rows
    ]
    # The rows as parameters of one statement (sent as one multi-row INSERT), not in
    # ``values()``: SQLAlchemy compiles a list in ``values()`` anew every time, never cached.
    session.execute(insert(table), values)


def _unset(column: Any) -> Any:
    """What stores SQL NULL in ``column``: None, or ``null()`` in JSON (where None is JSON null)."""
    return null() if isinstance(column.type, JSON) else None


def get_answer(session: Session, ctx: RequestContext, message_id: str) -> Message:
    """One of the assistant's answers in the caller's own conversation; any other is NotFound."""
    stmt = (
        scoped(select(Message), Message, ctx)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(
            Message.id == message_id,
            Message.role == "assistant",
            Conversation.company_id == ctx.company_id,
            Conversation.user_id == ctx.user_id,
        )
    )
    message = session.execute(stmt).scalar_one_or_none()
    if message is None:
        raise NotFound("Message not found", details={"message_id": message_id})
    return message
