"""Reading the audit log of one company (appending and verifying are in ``service``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from companion.audit.models import AuditEntry
from companion.tenancy.context import RequestContext, scoped


@dataclass(frozen=True)
class AuditFilter:
    """What the audit list is narrowed to (None: no filter on that)."""

    action: str | None = None
    entity_type: str | None = None
    entity_id: str | None = None
    actor: str | None = None
    via_ai: bool | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None  # exclusive


def list_entries(
    session: Session, ctx: RequestContext, where: AuditFilter, *, limit: int, offset: int
) -> tuple[list[AuditEntry], int]:
    """The company's audit entries matching ``where``, newest first, and how many match."""
    stmt = scoped(select(AuditEntry), AuditEntry, ctx)
    if where.action:
        stmt = stmt.where(AuditEntry.action.startswith(where.action, autoescape=True))
    if where.entity_type:
        stmt = stmt.where(AuditEntry.entity_type == where.entity_type)
    if where.entity_id:
        stmt = stmt.where(AuditEntry.entity_id == where.entity_id)
    if where.actor:
        stmt = stmt.where(AuditEntry.actor == where.actor)
    if where.via_ai is not None:
        stmt = stmt.where(AuditEntry.via_ai.is_(where.via_ai))
    if where.since is not None:
        stmt = stmt.where(AuditEntry.created_at >= where.since)
    if where.until is not None:
        stmt = stmt.where(AuditEntry.created_at < where.until)
    total = session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
    rows = session.execute(
        stmt.order_by(AuditEntry.chain, AuditEntry.seq.desc()).limit(limit).offset(offset)
    ).scalars()
    return list(rows), int(total)


def get_entry(session: Session, ctx: RequestContext, entry_id: int) -> AuditEntry | None:
    """One entry of the company's log, if any."""
    stmt = scoped(select(AuditEntry), AuditEntry, ctx).where(AuditEntry.id == entry_id)
    return session.execute(stmt).scalar_one_or_none()


def action_names(session: Session, ctx: RequestContext) -> list[str]:
    """The distinct actions in the company's log (the filter's choices)."""
    stmt = scoped(select(AuditEntry.action).distinct(), AuditEntry, ctx).order_by(AuditEntry.action)
    return [str(a) for a in session.execute(stmt).scalars()]
