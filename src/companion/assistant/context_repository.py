"""SQL the turn context reads: the caller's open confirmations and their company's facts."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from companion.assistant.actions.models import OPEN_STATUSES, AiAction
from companion.tenancy.context import RequestContext, scoped
from companion.tenancy.models import Company


def open_confirmations(
    session: Session, ctx: RequestContext, now: dt.datetime, limit: int
) -> list[AiAction]:
    """The caller's confirmations still waiting for an answer, newest first."""
    stmt = (
        scoped(select(AiAction), AiAction, ctx)
        .where(
            AiAction.user_id == ctx.user_id,
            AiAction.status.in_(OPEN_STATUSES),
            AiAction.expires_at > now,
        )
        .order_by(AiAction.created_at.desc())
        .limit(limit)
    )
    return list(session.execute(stmt).scalars())


def company(session: Session, ctx: RequestContext) -> Company | None:
    """The caller's active company (a global table: read by the context's own id)."""
    return session.get(Company, ctx.company_id)
