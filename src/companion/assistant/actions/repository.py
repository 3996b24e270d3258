"""Every query on AI action confirmations and action settings, scoped to the company."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import bindparam, func, or_, select, update
from sqlalchemy.orm import Session

from companion.assistant.actions.models import OPEN_STATUSES, AiAction, AiActionSetting
from companion.kit.db import utcnow
from companion.tenancy.context import RequestContext, company_param, scoped, scoped_later


def get_action(session: Session, ctx: RequestContext, token: str) -> AiAction | None:
    """The company's confirmation ``token`` read fresh from the database, or None."""
    stmt = (
        scoped(select(AiAction), AiAction, ctx)
        .where(AiAction.token == token)
        .execution_options(populate_existing=True)
    )
    return session.execute(stmt).scalar_one_or_none()


# Built once, run with parameters (see companion.kit.db): every follow-up turn reads it.
_OPEN_IN_CONVERSATION = (
    scoped_later(select(AiAction), AiAction)
    .where(
        AiAction.conversation_id == bindparam("conversation_id"),
        AiAction.user_id == bindparam("user_id"),
        AiAction.status.in_(OPEN_STATUSES),
    )
    .order_by(AiAction.created_at.desc())
    .limit(1)
    .execution_options(populate_existing=True)
)


def open_in_conversation(
    session: Session, ctx: RequestContext, conversation_id: str
) -> AiAction | None:
    """The caller's newest open confirmation in a conversation (pending or awaiting)."""
    params = {**company_param(ctx), "conversation_id": conversation_id, "user_id": ctx.user_id}
    return session.execute(_OPEN_IN_CONVERSATION, params).scalar_one_or_none()


def list_actions(
    session: Session,
    ctx: RequestContext,
    *,
    second_approval_actions: list[str],
    status: str | None,
    limit: int,
    offset: int,
) -> tuple[list[AiAction], int]:
    """The caller's confirmations, and others' awaiting a second approval the caller may give."""
    visible = AiAction.user_id == ctx.user_id
    if second_approval_actions:
        visible = or_(
            visible,
            (AiAction.status == "awaiting_second_approval")
            & AiAction.action.in_(second_approval_actions),
        )
    stmt = scoped(select(AiAction), AiAction, ctx).where(visible)
    if status is not None:
        stmt = stmt.where(AiAction.status == status)
    total = session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
    rows = session.execute(
        stmt.order_by(AiAction.created_at.desc(), AiAction.token).limit(limit).offset(offset)
    ).scalars()
    return list(rows), int(total)


def claim(session: Session, ctx: RequestContext, token: str, expected: str, **values: Any) -> bool:
    """Move ``token`` from status ``expected`` to ``values`` only if nobody did it first.

    A conditional UPDATE: of two concurrent confirmations exactly one matches the row
    (PostgreSQL re-checks the WHERE after the other's commit; SQLite serialises writers).
    """
    result = session.execute(
        update(AiAction)
        .where(
            AiAction.company_id == ctx.company_id,
            AiAction.token == token,
            AiAction.status == expected,
        )
        .values(updated_at=utcnow(), **values)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


def recent_proposals(
    session: Session, ctx: RequestContext, since: dt.datetime
) -> list[dt.datetime]:
    """When the caller proposed actions since ``since`` (any company), oldest first."""
    stmt = (
        select(AiAction.created_at)
        .where(AiAction.user_id == ctx.user_id, AiAction.created_at >= since)
        .order_by(AiAction.created_at)
    )
    return list(session.execute(stmt).scalars())


def expire_open(session: Session, now: dt.datetime) -> list[tuple[int, int, str, str]]:
    """Mark every open confirmation whose time is up as expired (all companies); each one
    as (company_id, user_id, token, action)."""
    result = session.execute(
        update(AiAction)
        .where(AiAction.status.in_(OPEN_STATUSES), AiAction.expires_at <= now)
        .values(status="expired", updated_at=utcnow())
        .returning(AiAction.company_id, AiAction.user_id, AiAction.token, AiAction.action)
        .execution_options(synchronize_session=False)
    )
    return [(int(c), int(u), str(t), str(a)) for c, u, t, a in result.all()]


def get_setting(session: Session, ctx: RequestContext, action: str) -> AiActionSetting | None:
    """The company's setting for ``action``, if one was made."""
    stmt = scoped(select(AiActionSetting), AiActionSetting, ctx).where(
        AiActionSetting.action == action
    )
    return session.execute(stmt).scalar_one_or_none()


def list_settings(session: Session, ctx: RequestContext) -> list[AiActionSetting]:
    """The company's action settings, by action name."""
    stmt = scoped(select(AiActionSetting), AiActionSetting, ctx).order_by(AiActionSetting.action)
    return list(session.execute(stmt).scalars())
