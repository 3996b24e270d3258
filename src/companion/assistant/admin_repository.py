"""Company-wide reads for the command center: every user's conversations, turns and actions.

``repository`` reads a caller's own conversations; an administrator (ai.admin) reviews all
of the company's. Every query filters ``company_id`` on each tenant table it touches.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import ColumnElement, exists, func, select
from sqlalchemy.orm import Session

from companion.assistant.actions.models import OPEN_STATUSES, AiAction
from companion.assistant.models import Conversation, Message
from companion.auth.models import User
from companion.errors import NotFound
from companion.tenancy.context import RequestContext, scoped


@dataclass(frozen=True)
class ConversationFilter:
    """What the conversation list is narrowed to (None: no filter on that)."""

    username: str | None = None
    intent: str | None = None
    skill: str | None = None
    rating: str | None = None  # up | down | rated | unrated
    since: dt.datetime | None = None
    until: dt.datetime | None = None  # exclusive
    text: str | None = None  # in any message of the conversation


@dataclass(frozen=True)
class ConversationRow:
    """One line of the conversation list."""

    conversation: Conversation
    username: str
    turns: int


@dataclass(frozen=True)
class TurnFacts:
    """What the overview counts of one assistant answer."""

    intent: str | None
    skill: str | None
    latency_ms: float | None


def _messages_where(ctx: RequestContext, *conditions: ColumnElement[bool]) -> ColumnElement[bool]:
    """A conversation has an assistant message in the company matching ``conditions``."""
    return exists(
        select(Message.id).where(
            Message.conversation_id == Conversation.id,
            Message.company_id == ctx.company_id,
            *conditions,
        )
    )


def _rating_condition(rating: str) -> ColumnElement[bool] | None:
    return {
        "up": Message.rating > 0,
        "down": Message.rating < 0,
        "rated": Message.rating.is_not(None),
    }.get(rating)


def search_conversations(
    session: Session, ctx: RequestContext, where: ConversationFilter, *, limit: int, offset: int
) -> tuple[list[ConversationRow], int]:
    """The company's conversations matching ``where``, most recently active first."""
    turns = (
        select(func.count(Message.id))
        .where(
            Message.conversation_id == Conversation.id,
            Message.company_id == ctx.company_id,
            Message.role == "user",
        )
        .scalar_subquery()
    )
    stmt = scoped(select(Conversation, User.username, turns), Conversation, ctx).join(
        User, User.id == Conversation.user_id
    )
    if where.username:
        stmt = stmt.where(User.username == where.username)
    if where.intent:
        stmt = stmt.where(_messages_where(ctx, Message.intent == where.intent))
    if where.skill:
        stmt = stmt.where(_messages_where(ctx, Message.skill == where.skill))
    if where.rating == "unrated":
        stmt = stmt.where(~_messages_where(ctx, Message.rating.is_not(None)))
    elif where.rating and (condition := _rating_condition(where.rating)) is not None:
        stmt = stmt.where(_messages_where(ctx, condition))
    if where.since is not None:
        stmt = stmt.where(Conversation.updated_at >= where.since)
    if where.until is not None:
        stmt = stmt.where(Conversation.created_at < where.until)
    if where.text:
        pattern = (
            "%" + where.text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        )
        stmt = stmt.where(
            _messages_where(ctx, func.lower(Message.content).like(pattern.lower(), escape="\\"))
            | func.lower(Conversation.title).like(pattern.lower(), escape="\\")
        )
    total = session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
    rows = session.execute(
        stmt.order_by(Conversation.updated_at.desc(), Conversation.id).limit(limit).offset(offset)
    ).all()
    return [ConversationRow(c, name, int(n or 0)) for c, name, n in rows], int(total)


def get_conversation(
    session: Session, ctx: RequestContext, conversation_id: str
) -> tuple[Conversation, str]:
    """Any user's conversation in the company, with its user's name; others are NotFound."""
    row = session.execute(
        scoped(select(Conversation, User.username), Conversation, ctx)
        .join(User, User.id == Conversation.user_id)
        .where(Conversation.id == conversation_id)
    ).first()
    if row is None:
        raise NotFound("Conversation not found", details={"conversation_id": conversation_id[:64]})
    return row[0], row[1]


def used_values(session: Session, ctx: RequestContext) -> tuple[list[str], list[str]]:
    """The intents and skills the company's answers have had (the filters' choices)."""
    base = scoped(select(Message), Message, ctx).where(Message.role == "assistant").subquery()
    intents = session.execute(
        select(base.c.intent).distinct().where(base.c.intent.is_not(None)).order_by(base.c.intent)
    ).scalars()
    skills = session.execute(
        select(base.c.skill).distinct().where(base.c.skill.is_not(None)).order_by(base.c.skill)
    ).scalars()
    return [str(i) for i in intents], [str(s) for s in skills]


def turns_between(
    session: Session, ctx: RequestContext, since: dt.datetime, until: dt.datetime
) -> list[TurnFacts]:
    """The company's assistant answers recorded in ``[since, until)``."""
    rows = session.execute(
        scoped(select(Message.intent, Message.skill, Message.latency_ms), Message, ctx).where(
            Message.role == "assistant",
            Message.created_at >= since,
            Message.created_at < until,
        )
    ).all()
    return [TurnFacts(intent, skill, latency) for intent, skill, latency in rows]


def list_company_actions(
    session: Session, ctx: RequestContext, *, status: str | None, limit: int, offset: int
) -> tuple[list[tuple[AiAction, str]], int]:
    """Every user's proposed actions in the company, newest first, with the proposer's name."""
    stmt = scoped(select(AiAction, User.username), AiAction, ctx).join(
        User, User.id == AiAction.user_id
    )
    if status:
        stmt = stmt.where(AiAction.status == status)
    total = session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
    rows = session.execute(
        stmt.order_by(AiAction.created_at.desc(), AiAction.token).limit(limit).offset(offset)
    ).all()
    return [(a, name) for a, name in rows], int(total)


def count_open_actions(session: Session, ctx: RequestContext, now: dt.datetime) -> int:
    """Confirmations in the company still waiting for a yes (not yet past their expiry)."""
    stmt = scoped(select(func.count(AiAction.token)), AiAction, ctx).where(
        AiAction.status.in_(OPEN_STATUSES), AiAction.expires_at > now
    )
    return int(session.execute(stmt).scalar_one())
