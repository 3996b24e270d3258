"""All SQL of alerts: the idempotent upsert by condition key, lists, counts and updates."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Integer,
    Select,
    bindparam,
    func,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from companion.alerts.models import OPEN_STATUSES, Alert
from companion.auth.models import User
from companion.errors import NotFound
from companion.tenancy.context import RequestContext, company_param, scoped, scoped_later


def upsert(session: Session, company_id: int, rows: Sequence[dict[str, Any]]) -> list[int]:
    """Insert each alert whose condition key the company has not got; the new rows' ids.

    ``INSERT ... ON CONFLICT DO NOTHING`` on the unique (company, condition key): a re-scan,
    a retried job or two scans at once never make a second row for one condition.
    """
    if not rows:
        return []
    values = [{**row, "company_id": company_id} for row in rows]
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = (
        insert(Alert)
        .values(values)
        .on_conflict_do_nothing(index_elements=["company_id", "condition_key"])
        .returning(Alert.id)
    )
    created = [int(ident) for (ident,) in session.execute(stmt).all()]
    session.flush()
    return created


def open_keys(session: Session, company_id: int, types: Iterable[str]) -> dict[str, int]:
    """The condition keys (-> alert id) of the company's not-cleared alerts of ``types``."""
    stmt = select(Alert.condition_key, Alert.id).where(
        Alert.company_id == company_id,
        Alert.type.in_(list(types)),
        Alert.cleared_at.is_(None),
    )
    return {key: ident for key, ident in session.execute(stmt)}


def clear(session: Session, company_id: int, ids: Sequence[int], now: dt.datetime) -> None:
    """Mark alerts whose condition no longer holds; free their keys for a later return."""
    for ident in ids:
        session.execute(
            update(Alert)
            .where(Alert.company_id == company_id, Alert.id == ident)
            .values(
                cleared_at=now,
                updated_at=now,
                condition_key=func.substr(Alert.condition_key, 1, 180) + f"~{ident}",
            )
        )
    session.flush()


def _visible(ctx: RequestContext) -> Select[Alert]:
    return scoped(select(Alert), Alert, ctx).where(*_readable(sorted(ctx.permissions)))


def _readable(permissions: list[str] | BindParameter[Any]) -> tuple[ColumnElement[bool], ...]:
    """Alerts of a permission the caller holds, not cleared (within their company)."""
    return Alert.permission.in_(permissions), Alert.cleared_at.is_(None)


def list_alerts(
    session: Session,
    ctx: RequestContext,
    *,
    statuses: Sequence[str] = (),
    types: Sequence[str] = (),
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Alert], int]:
    """A page of the alerts the caller may see, newest day first, and how many match."""
    stmt = _visible(ctx)
    if statuses:
        stmt = stmt.where(Alert.status.in_(list(statuses)))
    if types:
        stmt = stmt.where(Alert.type.in_(list(types)))
    total = session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
    page = stmt.order_by(Alert.on_date.desc(), Alert.id.desc()).limit(limit).offset(offset)
    return list(session.execute(page).scalars()), int(total)


# Built once, run with parameters (see companion.kit.db): every chat turn reads it.
# ``_visible`` with the company and the caller's permissions bound.
_OPEN_ALERTS = (
    scoped_later(select(Alert), Alert)
    .where(*_readable(bindparam("permissions", expanding=True)))
    .where(Alert.status.in_(OPEN_STATUSES))
    .order_by(Alert.id.desc())
    .limit(bindparam("limit", type_=Integer))
)


def open_alerts(session: Session, ctx: RequestContext, limit: int = 200) -> list[Alert]:
    """The caller's unread and read alerts (not dismissed, acted or cleared)."""
    params = {**company_param(ctx), "permissions": sorted(ctx.permissions), "limit": limit}
    return list(session.execute(_OPEN_ALERTS, params).scalars())


def unread_count(session: Session, ctx: RequestContext) -> int:
    """How many alerts the caller may see are unread."""
    stmt = _visible(ctx).where(Alert.status == "unread")
    return int(session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one())


def get_alert(
    session: Session, ctx: RequestContext, alert_id: int, *, for_update: bool = False
) -> Alert:
    """An alert the caller may see; another company's or another role's is a 404."""
    # Statuses move by UPDATE statements: read the row as it is now, not as first loaded.
    stmt = _visible(ctx).where(Alert.id == alert_id).execution_options(populate_existing=True)
    if for_update:
        stmt = stmt.with_for_update()
    alert = session.execute(stmt).scalar_one_or_none()
    if alert is None:
        raise NotFound(f"Alert {alert_id} not found", details={"alert_id": alert_id})
    return alert


def set_status(
    session: Session,
    ctx: RequestContext,
    alert_id: int,
    status: str,
    now: dt.datetime,
    *,
    only_from: Sequence[str],
    **values: Any,
) -> bool:
    """Move an alert to ``status`` if it is in one of ``only_from``; False if it was not."""
    stmt = (
        update(Alert)
        .where(Alert.company_id == ctx.company_id, Alert.id == alert_id)
        .where(Alert.status.in_(list(only_from)))
        .values(status=status, updated_at=now, **values)
        .execution_options(synchronize_session=False)
    )
    result = session.execute(stmt)
    session.flush()
    return bool(getattr(result, "rowcount", 0))


def alerts_by_ids(session: Session, company_id: int, ids: Sequence[int]) -> list[Alert]:
    """The company's alerts among ``ids`` (a scan's new ones), by id."""
    stmt = select(Alert).where(Alert.company_id == company_id, Alert.id.in_(list(ids)))
    return list(session.execute(stmt.order_by(Alert.id)).scalars())


def alerts_of_company(session: Session, company_id: int) -> list[Alert]:
    """Every alert of a company, cleared ones included (scans, evaluation)."""
    stmt = select(Alert).where(Alert.company_id == company_id).order_by(Alert.id)
    return list(session.execute(stmt).scalars())


def usernames(session: Session, ids: Iterable[int | None]) -> dict[int, str]:
    """Login names of the given users (assignees), by id."""
    wanted = sorted({i for i in ids if i is not None})
    if not wanted:
        return {}
    stmt = select(User.id, User.username).where(User.id.in_(wanted))
    return {ident: name for ident, name in session.execute(stmt)}
