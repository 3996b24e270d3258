"""SQL the turn context reads: the caller's open confirmations and their company's facts."""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from sqlalchemy import Integer, bindparam, select
from sqlalchemy.orm import Session

from companion.assistant.actions.models import OPEN_STATUSES, AiAction
from companion.tenancy.context import RequestContext, company_param, scoped_later
from companion.tenancy.models import Company, Membership


class OpenConfirmation(NamedTuple):
    """What the turn context shows of a confirmation still waiting for an answer."""

    action: str
    summary: str
    token: str
    expires_at: dt.datetime


# Built once, run with parameters (see companion.kit.db): every chat turn reads it.
_OPEN_CONFIRMATIONS = (
    scoped_later(
        select(AiAction.action, AiAction.summary, AiAction.token, AiAction.expires_at), AiAction
    )
    .where(
        AiAction.user_id == bindparam("user_id"),
        AiAction.status.in_(OPEN_STATUSES),
        AiAction.expires_at > bindparam("now"),
    )
    .order_by(AiAction.created_at.desc())
    .limit(bindparam("limit", type_=Integer))
)


def open_confirmations(
    session: Session, ctx: RequestContext, now: dt.datetime, limit: int
) -> list[OpenConfirmation]:
    """The caller's confirmations still waiting for an answer, newest first.

    Read as rows, not objects: every chat turn reads them, and loading ``AiAction`` objects
    cost more than the statement.
    """
    params = {**company_param(ctx), "user_id": ctx.user_id, "now": now, "limit": limit}
    return [OpenConfirmation(*row) for row in session.execute(_OPEN_CONFIRMATIONS, params).all()]


def company(session: Session, ctx: RequestContext) -> Company | None:
    """The caller's active company (a global table: read by the context's own id)."""
    return session.get(Company, ctx.company_id)


def active_companies(session: Session) -> list[tuple[int, str, str]]:
    """Every active company of the installation: id, slug and name (a global table)."""
    stmt = select(Company.id, Company.slug, Company.name).where(Company.is_active.is_(True))
    return [(i, s, n) for i, s, n in session.execute(stmt).all()]


def is_member(session: Session, user_id: int, company_id: int) -> bool:
    """Whether the user belongs to the company (memberships: a global table)."""
    stmt = select(Membership.id).where(
        Membership.user_id == user_id, Membership.company_id == company_id
    )
    return session.execute(stmt).first() is not None
