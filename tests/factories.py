"""Small builders for tests: a company and a caller's context, nothing else implied."""

from __future__ import annotations

from sqlalchemy.orm import Session

from companion.auth.models import User
from companion.auth.passwords import HashParameters, PasswordHasher
from companion.tenancy.context import RequestContext
from companion.tenancy.models import Company, Membership
from companion.tenancy.permissions import permissions_for

# Argon2 with production costs takes ~0.2 s a hash; tests do not need that.
CHEAP_HASHING = HashParameters(time_cost=1, memory_cost=8, parallelism=1)
CHEAP_HASHER = PasswordHasher(CHEAP_HASHING)
# The same costs for a process configured through the environment (the CLI).
CHEAP_HASHING_ENV = {
    "COMPANION_AUTH__PASSWORD_TIME_COST": str(CHEAP_HASHING.time_cost),
    "COMPANION_AUTH__PASSWORD_MEMORY_KIB": str(CHEAP_HASHING.memory_cost),
    "COMPANION_AUTH__PASSWORD_PARALLELISM": str(CHEAP_HASHING.parallelism),
}


def make_company(session: Session, slug: str, currency: str = "USD") -> Company:
    company = Company(slug=slug, name=slug.title(), base_currency=currency)
    session.add(company)
    session.flush()
    return company


def make_user(session: Session, username: str, *, password_hash: str = "x") -> User:
    user = User(username=username, full_name=username.title(), password_hash=password_hash)
    session.add(user)
    session.flush()
    return user


def make_context(
    session: Session, company: Company, roles: list[str], username: str | None = None
) -> RequestContext:
    """A member of ``company`` with ``roles`` (the user is created if needed)."""
    name = username or f"{company.slug}-{'-'.join(roles)}"
    user = session.query(User).filter_by(username=name).one_or_none() or make_user(session, name)
    if not session.query(Membership).filter_by(user_id=user.id, company_id=company.id).count():
        session.add(Membership(user_id=user.id, company_id=company.id, roles=roles))
        session.flush()
    return RequestContext(
        user_id=user.id,
        username=user.username,
        company_id=company.id,
        company_slug=company.slug,
        currency=company.base_currency,
        roles=tuple(roles),
        permissions=permissions_for(roles),
    )
