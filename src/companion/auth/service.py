"""Users, logins, memberships, API keys, and turning a request's credentials into a context.

Who may do what is decided here and in ``tenancy``; the HTTP layer only passes headers in.
User and membership changes are audited: users on the ``global`` chain, memberships and
API keys on their company's chain.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from sqlalchemy.orm import Session

from companion.audit import service as audit
from companion.auth import repository as repo
from companion.auth.models import ApiKey, User
from companion.auth.passwords import PasswordHasher
from companion.auth.tokens import decode_token, encode_token
from companion.config import Settings
from companion.errors import (
    BadRequest,
    BusinessRuleViolation,
    Conflict,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from companion.kit.clock import Clock
from companion.kit.db import utcnow
from companion.tenancy.context import RequestContext
from companion.tenancy.models import Company, Membership
from companion.tenancy.permissions import ROLES, permissions_for

USERNAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
API_KEY_RE = re.compile(r"^cmp_([0-9a-f]{12})_([A-Za-z0-9_-]{20,128})$")
# One answer for an unknown user, a wrong password and a disabled account: no enumeration.
INVALID_CREDENTIALS = "Unknown username or wrong password"
# ``last_used_at`` is refreshed at most this often, so reads do not all become writes.
LAST_USED_RESOLUTION = dt.timedelta(minutes=5)


class CompanyRequired(BadRequest):
    """The caller belongs to several companies and did not say which one."""

    code = "company_required"


@dataclass(frozen=True)
class CompanyAccess:
    """One company a user belongs to, with the user's roles there."""

    slug: str
    name: str
    currency: str
    roles: tuple[str, ...]


def _refuse(message: str, reason: str) -> NotAuthenticated:
    return NotAuthenticated(message, details={"reason": reason})


def _invalid(message: str, **details: object) -> ValidationFailed:
    return ValidationFailed(message, details=dict(details))


def _check_roles(roles: list[str] | tuple[str, ...]) -> list[str]:
    unknown = sorted({r for r in roles if r not in ROLES})
    if unknown:
        raise _invalid(
            f"Unknown role(s): {', '.join(unknown)}", unknown=unknown, known=sorted(ROLES)
        )
    return list(dict.fromkeys(roles))  # de-duplicated, order kept


# --- users and logins -------------------------------------------------------------------


def get_user(session: Session, user_id: int) -> User:
    """The user with ``user_id`` or ``NotFound``."""
    user = repo.get_user(session, user_id)
    if user is None:
        raise NotFound(f"User {user_id} not found", details={"user_id": user_id})
    return user


def get_user_by_username(session: Session, username: str) -> User:
    """The user called ``username`` or ``NotFound``."""
    user = repo.get_user_by_username(session, username)
    if user is None:
        raise NotFound(f"User '{username[:64]}' not found", details={"username": username[:64]})
    return user


def authenticate(session: Session, hasher: PasswordHasher, username: str, password: str) -> User:
    """The active user with these credentials; re-hashes a password made with old parameters."""
    user = repo.get_user_by_username(session, username) if username else None
    if user is None:
        hasher.verify_nothing(password)
        raise _refuse(INVALID_CREDENTIALS, "invalid_credentials")
    if not hasher.verify(user.password_hash, password) or not user.is_active:
        raise _refuse(INVALID_CREDENTIALS, "invalid_credentials")
    if hasher.needs_rehash(user.password_hash):
        user.password_hash = hasher.hash(password)
        session.flush()
    return user


def issue_token(settings: Settings, clock: Clock, user: User) -> tuple[str, dt.datetime]:
    """A bearer token for ``user`` and the moment it expires."""
    return encode_token(settings.auth, user.id, clock.now())


def create_user(
    session: Session,
    hasher: PasswordHasher,
    *,
    username: str,
    password: str,
    full_name: str = "",
    email: str | None = None,
    is_system_admin: bool = False,
    actor: str = "system",
) -> User:
    """Create a user (audited on the global chain); ``Conflict`` if the name is taken."""
    if not USERNAME_RE.match(username):
        raise _invalid(
            "A username is 1-64 letters, digits or . _ @ - and starts with a letter or digit",
            field="username",
        )
    if len(full_name) > 200:
        raise _invalid("A full name is at most 200 characters", field="full_name")
    if email is not None and (len(email) > 200 or "@" not in email):
        raise _invalid("The email address is not valid", field="email")
    if repo.get_user_by_username(session, username) is not None:
        raise Conflict(f"The username '{username}' is taken", details={"username": username})
    try:
        password_hash = hasher.hash(password)
    except ValueError as exc:
        raise _invalid(f"The password is not acceptable: {exc}", field="password") from exc
    user = User(
        username=username,
        full_name=full_name,
        email=email,
        password_hash=password_hash,
        is_system_admin=is_system_admin,
    )
    session.add(user)
    session.flush()
    new = {
        "username": username,
        "full_name": full_name,
        "email": email,
        "is_system_admin": is_system_admin,
    }
    audit.record(session, None, "user.create", "user", user.id, new=new, actor=actor)
    return user


def set_membership(
    session: Session,
    user_id: int,
    company_id: int,
    roles: list[str],
    *,
    actor: str = "system",
) -> Membership:
    """Give the user exactly ``roles`` in the company (audited on the company's chain)."""
    checked = _check_roles(roles)
    user = get_user(session, user_id)
    if session.get(Company, company_id) is None:
        raise NotFound(f"Company {company_id} not found", details={"company_id": company_id})
    membership = repo.get_membership(session, user_id, company_id)
    old = None if membership is None else {"roles": list(membership.roles)}
    if membership is None:
        membership = Membership(user_id=user_id, company_id=company_id, roles=checked)
        session.add(membership)
    else:
        membership.roles = checked
    session.flush()
    audit.record(
        session,
        None,
        "membership.set",
        "membership",
        membership.id,
        old=old,
        new={"user_id": user_id, "username": user.username, "roles": checked},
        company_id=company_id,
        actor=actor,
    )
    return membership


def user_companies(session: Session, user_id: int) -> list[CompanyAccess]:
    """The active companies the user belongs to, with the user's roles in each."""
    return [
        CompanyAccess(
            slug=c.slug,
            name=c.name,
            currency=c.base_currency,
            roles=tuple(r for r in m.roles if r in ROLES),
        )
        for m, c in repo.active_memberships(session, user_id)
    ]


# --- API keys ---------------------------------------------------------------------------


def _hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_api_key(
    session: Session,
    *,
    user_id: int,
    company_id: int,
    name: str,
    roles: list[str],
    expires_at: dt.datetime | None,
    ctx: RequestContext | None = None,
    now: dt.datetime | None = None,
) -> tuple[ApiKey, str]:
    """A new key and its plaintext (shown once); its roles must be held by its owner there."""
    if ctx is not None:
        ctx.require("admin.users")
        if ctx.company_id != company_id:
            raise PermissionDenied("API keys are created in the active company only")
    now = now or utcnow()
    name = name.strip()
    if not name or len(name) > 100:
        raise _invalid("An API key needs a name of 1-100 characters", field="name")
    if not roles:
        raise _invalid("An API key needs at least one role", field="roles")
    checked = _check_roles(roles)
    if expires_at is not None and (expires_at.tzinfo is None or expires_at <= now):
        raise _invalid("expires_at must be a future time with a timezone", field="expires_at")
    owner = get_user(session, user_id)
    membership = repo.get_membership(session, user_id, company_id)
    if membership is None:
        raise NotFound(
            f"User '{owner.username}' is not a member of this company",
            details={"user_id": user_id},
        )
    not_held = [r for r in checked if r not in membership.roles]
    if not_held:
        raise BusinessRuleViolation(
            "An API key can only have roles its owner holds in the company",
            details={"not_held": not_held, "owner_roles": list(membership.roles)},
        )
    prefix, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
    key = ApiKey(
        company_id=company_id,
        user_id=user_id,
        name=name,
        prefix=prefix,
        key_hash=_hash_secret(secret),
        roles=checked,
        expires_at=expires_at,
    )
    session.add(key)
    session.flush()
    new = {"name": name, "user_id": user_id, "roles": checked, "expires_at": expires_at}
    audit.record(
        session,
        ctx,
        "api_key.create",
        "api_key",
        key.id,
        new={**new, "prefix": prefix},
        company_id=company_id,
    )
    return key, f"cmp_{prefix}_{secret}"


def _visible_key(session: Session, ctx: RequestContext, key_id: int) -> ApiKey:
    key = repo.get_api_key(session, ctx, key_id)
    # Without admin.users a caller sees only their own keys; others' answer like missing ones.
    if key is None or (key.user_id != ctx.user_id and not ctx.can("admin.users")):
        raise NotFound(f"API key {key_id} not found", details={"api_key_id": key_id})
    return key


def get_api_key(session: Session, ctx: RequestContext, key_id: int) -> ApiKey:
    """One API key of the caller's company (their own unless they hold admin.users)."""
    return _visible_key(session, ctx, key_id)


def list_api_keys(session: Session, ctx: RequestContext) -> list[ApiKey]:
    """The company's API keys for admins, the caller's own for everyone else."""
    if ctx.can("admin.users"):
        return repo.list_api_keys(session, ctx)
    return repo.list_api_keys(session, ctx, user_id=ctx.user_id)


def revoke_api_key(
    session: Session,
    key_id: int,
    *,
    ctx: RequestContext | None = None,
    now: dt.datetime | None = None,
) -> ApiKey:
    """Revoke a key (idempotent); through ``ctx`` only a key of its company is visible."""
    if ctx is not None:
        key = _visible_key(session, ctx, key_id)
    else:
        found = session.get(ApiKey, key_id)
        if found is None:
            raise NotFound(f"API key {key_id} not found", details={"api_key_id": key_id})
        key = found
    if key.revoked_at is None:
        key.revoked_at = now or utcnow()
        session.flush()
        audit.record(
            session,
            ctx,
            "api_key.revoke",
            "api_key",
            key.id,
            old={"revoked_at": None},
            new={"revoked_at": key.revoked_at},
            company_id=key.company_id,
        )
    return key


# --- request context --------------------------------------------------------------------


def _context(
    user: User, company: Company, roles: list[str] | tuple[str, ...], api_key_id: int | None = None
) -> RequestContext:
    # A role dropped from the catalogue grants nothing (and must not crash the request).
    known = tuple(r for r in roles if r in ROLES)
    return RequestContext(
        user_id=user.id,
        username=user.username,
        company_id=company.id,
        company_slug=company.slug,
        currency=company.base_currency,
        roles=known,
        permissions=permissions_for(known),
        locale=company.locale,
        fiscal_year_start_month=company.fiscal_year_start_month,
        company_name=company.name,
        timezone=company.timezone,
        api_key_id=api_key_id,
    )


def _no_access(slug: str) -> PermissionDenied:
    # The same answer for a company that exists and one that does not.
    return PermissionDenied(
        f"You do not have access to company '{slug[:64]}'",
        details={"company": slug[:64], "reason": "not_a_member"},
    )


def _pick_company(
    memberships: list[tuple[Membership, Company]], company_slug: str | None
) -> tuple[Membership, Company]:
    """The membership the request acts in: the one of ``company_slug``, or the only one."""
    if company_slug:
        for membership, company in memberships:
            if company.slug == company_slug:
                return membership, company
        raise _no_access(company_slug)
    if len(memberships) == 1:
        return memberships[0]
    if not memberships:
        raise PermissionDenied(
            "You do not belong to any active company", details={"reason": "no_company"}
        )
    raise CompanyRequired(
        "You belong to several companies: choose one with the X-Company header",
        details={"companies": [c.slug for _, c in memberships]},
    )


def _context_from_token(
    session: Session, settings: Settings, clock: Clock, authorization: str, slug: str | None
) -> RequestContext:
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _refuse(
            "The Authorization header must be 'Bearer <token>'", "invalid_authorization_header"
        )
    claims = decode_token(settings.auth, token.strip(), clock.now())
    user, memberships = repo.user_with_memberships(session, claims.user_id)
    if user is None or not user.is_active:
        raise _refuse("The token's user is unknown or inactive", "inactive_user")
    membership, company = _pick_company(memberships, slug)
    return _context(user, company, membership.roles)


def _context_from_api_key(
    session: Session, clock: Clock, api_key: str, slug: str | None
) -> RequestContext:
    match = API_KEY_RE.match(api_key.strip())
    found = repo.api_key_with_owner(session, match.group(1)) if match else None
    if match is None or found is None:
        raise _refuse("The API key is not valid", "invalid_api_key")
    key, user, company, membership = found
    if not hmac.compare_digest(key.key_hash, _hash_secret(match.group(2))):
        raise _refuse("The API key is not valid", "invalid_api_key")
    now = clock.now()
    if key.revoked_at is not None:
        raise _refuse("The API key has been revoked", "api_key_revoked")
    if key.expires_at is not None and key.expires_at <= now:
        raise _refuse("The API key has expired", "api_key_expired")
    if user is None or not user.is_active:
        raise _refuse("The API key's owner is inactive", "inactive_user")
    if company is None or not company.is_active or (slug and slug != company.slug):
        raise _no_access(slug or (company.slug if company else "?"))
    if membership is None:
        raise _refuse("The API key's owner no longer belongs to its company", "owner_not_member")
    # A key never grants more than its owner holds today, whatever it was created with.
    roles = [r for r in key.roles if r in membership.roles]
    return _context(user, company, roles, api_key_id=key.id)


def api_key_use_due(session: Session, ctx: RequestContext, now: dt.datetime) -> bool:
    """Whether the caller's API key (if the caller used one) is due a ``last_used_at`` stamp.

    Reads the key by primary key: the sign-in's object while the session still holds it, else
    one SELECT (the session holds loaded objects weakly, so by now it usually is one). The stamp
    itself is ``stamp_api_key_use``, in a short write transaction of its own, so signing in
    never makes a request a writer.
    """
    if ctx.api_key_id is None:
        return False
    key = session.get(ApiKey, ctx.api_key_id)
    if key is None:
        return False
    return key.last_used_at is None or now - key.last_used_at >= LAST_USED_RESOLUTION


def stamp_api_key_use(session: Session, key_id: int, now: dt.datetime) -> bool:
    """Record that the key was used at ``now`` (at most once per ``LAST_USED_RESOLUTION``)."""
    return repo.stamp_api_key_used(session, key_id, now, now - LAST_USED_RESOLUTION) > 0


def resolve_context(
    session: Session,
    settings: Settings,
    clock: Clock,
    *,
    authorization: str | None,
    api_key: str | None,
    company_slug: str | None,
) -> RequestContext:
    """The caller's context from a bearer token or an API key and the X-Company header.

    Reads only: an API key's use is stamped apart (``api_key_use_due``, ``stamp_api_key_use``).
    """
    slug = company_slug.strip() if company_slug else None
    if authorization and api_key:
        # 401, not 400: the OpenAPI cannot state "one scheme, not both", and two credentials
        # are credentials the server will not accept (as a wrong one would be).
        raise _refuse("Send either a bearer token or an API key, not both", "ambiguous_credentials")
    if api_key:
        return _context_from_api_key(session, clock, api_key, slug)
    if not authorization:
        raise _refuse(
            "Missing credentials: send 'Authorization: Bearer <token>' or an 'X-Api-Key' header",
            "missing_credentials",
        )
    return _context_from_token(session, settings, clock, authorization, slug)


def context_for_user(session: Session, username: str, company_slug: str | None) -> RequestContext:
    """The context of a local, trusted caller (the CLI): same membership rules, no token."""
    user = repo.get_user_by_username(session, username)
    if user is None or not user.is_active:
        raise NotFound(f"No active user named '{username[:64]}'", details={"user": username[:64]})
    membership, company = _pick_company(repo.active_memberships(session, user.id), company_slug)
    return _context(user, company, membership.roles)
