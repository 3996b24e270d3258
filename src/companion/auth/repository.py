"""All SQL of the auth package: users, memberships and API keys."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import and_, bindparam, or_, select, update
from sqlalchemy.orm import Session

from companion.auth.models import ApiKey, User
from companion.tenancy.context import RequestContext, scoped
from companion.tenancy.models import Company, Membership


def get_user(session: Session, user_id: int) -> User | None:
    """The user with ``user_id``, if any."""
    return session.get(User, user_id)


def get_user_by_username(session: Session, username: str) -> User | None:
    """The user called ``username`` (exact match), if any."""
    return session.execute(select(User).where(User.username == username)).scalar_one_or_none()


def list_users(session: Session) -> list[User]:
    """Every user, by username."""
    return list(session.execute(select(User).order_by(User.username)).scalars())


def get_company_by_slug(session: Session, slug: str) -> Company | None:
    """The company with ``slug``, if any."""
    return session.execute(select(Company).where(Company.slug == slug)).scalar_one_or_none()


def get_membership(session: Session, user_id: int, company_id: int) -> Membership | None:
    """The user's membership of the company, if any."""
    return session.execute(
        select(Membership).where(Membership.user_id == user_id, Membership.company_id == company_id)
    ).scalar_one_or_none()


def active_memberships(session: Session, user_id: int) -> list[tuple[Membership, Company]]:
    """The user's memberships of active companies, by company slug."""
    rows = session.execute(
        select(Membership, Company)
        .join(Company, Company.id == Membership.company_id)
        .where(Membership.user_id == user_id, Company.is_active.is_(True))
        .order_by(Company.slug)
    ).all()
    return [(m, c) for m, c in rows]


# Built once, run with parameters (see companion.kit.db): every request signs in.
_USER_WITH_MEMBERSHIPS = (
    select(User, Membership, Company)
    .outerjoin(Membership, Membership.user_id == User.id)
    .outerjoin(Company, Company.id == Membership.company_id)
    .where(User.id == bindparam("user_id"))
    .order_by(Company.slug)
)


def user_with_memberships(
    session: Session, user_id: int
) -> tuple[User | None, list[tuple[Membership, Company]]]:
    """The user with ``user_id`` and their memberships of active companies, by company slug.

    One statement (a request's sign-in): the user outer-joined to their memberships.
    """
    rows = session.execute(_USER_WITH_MEMBERSHIPS, {"user_id": user_id}).all()
    user = rows[0][0] if rows else None
    active = [(m, c) for _, m, c in rows if m is not None and c is not None and c.is_active]
    return user, active


def memberships_by_user(session: Session) -> dict[int, list[tuple[str, list[str]]]]:
    """Every membership as ``user_id -> [(company slug, roles)]`` (for listings)."""
    rows = session.execute(
        select(Membership.user_id, Company.slug, Membership.roles)
        .join(Company, Company.id == Membership.company_id)
        .order_by(Company.slug)
    ).all()
    result: dict[int, list[tuple[str, list[str]]]] = {}
    for user_id, slug, roles in rows:
        result.setdefault(user_id, []).append((slug, list(roles)))
    return result


_API_KEY_WITH_OWNER = (
    select(ApiKey, User, Company, Membership)
    .outerjoin(User, User.id == ApiKey.user_id)
    .outerjoin(Company, Company.id == ApiKey.company_id)
    .outerjoin(
        Membership,
        and_(Membership.user_id == ApiKey.user_id, Membership.company_id == ApiKey.company_id),
    )
    .where(ApiKey.prefix == bindparam("prefix"))
)


def api_key_with_owner(
    session: Session, prefix: str
) -> tuple[ApiKey, User | None, Company | None, Membership | None] | None:
    """The API key with public prefix ``prefix``, its owner, its company and the owner's
    membership there, in one statement (lookup before authentication)."""
    row = session.execute(_API_KEY_WITH_OWNER, {"prefix": prefix}).one_or_none()
    if row is None:
        return None
    key, user, company, membership = row
    return key, user, company, membership


def stamp_api_key_used(session: Session, key_id: int, now: dt.datetime, since: dt.datetime) -> int:
    """Set the key's ``last_used_at`` to ``now`` unless it is already later than ``since``.

    One conditional UPDATE (no read first), so two requests stamping at once write once.
    """
    stmt = (
        update(ApiKey)
        .where(ApiKey.id == key_id)
        .where(or_(ApiKey.last_used_at.is_(None), ApiKey.last_used_at <= since))
        .values(last_used_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(session.execute(stmt).rowcount)  # type: ignore[attr-defined]


def get_api_key(session: Session, ctx: RequestContext, key_id: int) -> ApiKey | None:
    """An API key of the caller's company."""
    stmt = scoped(select(ApiKey), ApiKey, ctx).where(ApiKey.id == key_id)
    return session.execute(stmt).scalar_one_or_none()


def list_api_keys(
    session: Session, ctx: RequestContext, *, user_id: int | None = None
) -> list[ApiKey]:
    """The caller's company's API keys, newest first, optionally of one user only."""
    stmt = scoped(select(ApiKey), ApiKey, ctx).order_by(ApiKey.id.desc())
    if user_id is not None:
        stmt = stmt.where(ApiKey.user_id == user_id)
    return list(session.execute(stmt).scalars())
