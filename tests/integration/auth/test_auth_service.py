"""Users, logins, memberships, API keys and request contexts on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from companion.audit.models import AuditEntry
from companion.audit.service import verify
from companion.auth import service as auth
from companion.auth.models import ApiKey, User
from companion.auth.passwords import HashParameters, PasswordHasher
from companion.auth.tokens import encode_token
from companion.config import AuthSettings, Settings
from companion.errors import (
    BadRequest,
    BusinessRuleViolation,
    Conflict,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from companion.kit.clock import FixedClock
from companion.tenancy.context import RequestContext
from companion.tenancy.models import Company
from companion.tenancy.permissions import ROLES
from factories import CHEAP_HASHER, make_company

PW = "s3cret-pass"
NOW = dt.datetime(2026, 5, 4, 9, 30, tzinfo=dt.UTC)
SETTINGS = Settings(auth=AuthSettings(secret_key="integration-secret-0123456789-abcdefgh"))


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def acme(session: Session) -> Company:
    return make_company(session, "acme", "BDT")


@pytest.fixture
def globex(session: Session) -> Company:
    return make_company(session, "globex", "USD")


def _user(session: Session, name: str, memberships: dict[Company, list[str]]) -> User:
    user = auth.create_user(
        session, CHEAP_HASHER, username=name, password=PW, full_name=name.title()
    )
    for company, roles in memberships.items():
        auth.set_membership(session, user.id, company.id, roles)
    return user


def _bearer(user: User, clock: FixedClock) -> str:
    return "Bearer " + auth.issue_token(SETTINGS, clock, user)[0]


def _resolve(
    session: Session,
    clock: FixedClock,
    *,
    authorization: str | None = None,
    api_key: str | None = None,
    company_slug: str | None = None,
) -> RequestContext:
    return auth.resolve_context(
        session,
        SETTINGS,
        clock,
        authorization=authorization,
        api_key=api_key,
        company_slug=company_slug,
    )


# --- users and logins -------------------------------------------------------------------


def test_authenticate_accepts_the_right_password_only(session: Session, acme: Company) -> None:
    user = _user(session, "alice", {acme: ["finance"]})
    assert auth.authenticate(session, CHEAP_HASHER, "alice", PW).id == user.id
    answers = []
    for name, password in (("alice", "wrong"), ("nobody", PW), ("", PW), ("ALICE", PW)):
        with pytest.raises(NotAuthenticated) as caught:
            auth.authenticate(session, CHEAP_HASHER, name, password)
        answers.append((caught.value.message, caught.value.details))
    assert len(set(map(str, answers))) == 1  # no way to tell a wrong name from a wrong password


def test_an_inactive_user_cannot_log_in(session: Session, acme: Company) -> None:
    user = _user(session, "bob", {acme: ["viewer"]})
    user.is_active = False
    with pytest.raises(NotAuthenticated):
        auth.authenticate(session, CHEAP_HASHER, "bob", PW)


def test_login_upgrades_a_hash_made_with_old_parameters(session: Session, acme: Company) -> None:
    user = _user(session, "carol", {acme: ["viewer"]})
    old_hash = user.password_hash
    newer = PasswordHasher(HashParameters(time_cost=2, memory_cost=16, parallelism=1))
    auth.authenticate(session, newer, "carol", PW)
    session.refresh(user)
    assert user.password_hash != old_hash
    assert "m=16,t=2,p=1" in user.password_hash
    assert not newer.needs_rehash(user.password_hash)


def test_create_user_validates_and_refuses_duplicates(session: Session) -> None:
    user = auth.create_user(
        session, CHEAP_HASHER, username="dave", password=PW, email="d@example.com"
    )
    assert user.password_hash != PW and CHEAP_HASHER.verify(user.password_hash, PW)
    with pytest.raises(Conflict):
        auth.create_user(session, CHEAP_HASHER, username="dave", password=PW)
    for bad in ({"username": "has space"}, {"username": ""}, {"password": ""}, {"email": "nope"}):
        with pytest.raises(ValidationFailed):
            auth.create_user(session, CHEAP_HASHER, **{"username": "erin", "password": PW, **bad})


def test_users_and_memberships_are_audited_on_their_chains(session: Session, acme: Company) -> None:
    user = _user(session, "frank", {acme: ["sales"]})
    auth.set_membership(session, user.id, acme.id, ["sales", "finance", "sales"])
    entries = session.execute(select(AuditEntry).order_by(AuditEntry.id)).scalars().all()
    created = [e for e in entries if e.action == "user.create"]
    assert created[-1].chain == "global" and created[-1].entity_id == str(user.id)
    assert "password" not in str(created[-1].new_values)
    memberships = [e for e in entries if e.action == "membership.set"]
    assert [e.chain for e in memberships] == [f"company:{acme.id}"] * 2
    assert memberships[0].old_values is None
    assert memberships[1].old_values == {"roles": ["sales"]}
    assert memberships[1].new_values["roles"] == ["sales", "finance"]
    assert verify(session).ok


def test_set_membership_refuses_unknown_roles_users_and_companies(
    session: Session, acme: Company
) -> None:
    user = _user(session, "gina", {})
    with pytest.raises(ValidationFailed) as caught:
        auth.set_membership(session, user.id, acme.id, ["finance", "wizard"])
    assert caught.value.details["unknown"] == ["wizard"]
    assert set(caught.value.details["known"]) == set(ROLES)
    with pytest.raises(NotFound):
        auth.set_membership(session, 10**6, acme.id, ["viewer"])
    with pytest.raises(NotFound):
        auth.set_membership(session, user.id, 10**6, ["viewer"])


# --- request contexts -------------------------------------------------------------------


def test_a_token_of_a_one_company_user_resolves_to_that_company(
    session: Session, acme: Company, clock: FixedClock
) -> None:
    user = _user(session, "hank", {acme: ["finance"]})
    ctx = _resolve(session, clock, authorization=_bearer(user, clock))
    assert (ctx.user_id, ctx.username, ctx.company_id) == (user.id, "hank", acme.id)
    assert (ctx.company_slug, ctx.currency, ctx.locale) == ("acme", "BDT", "en")
    assert ctx.roles == ("finance",) and ctx.permissions == ROLES["finance"]
    assert ctx.fiscal_year_start_month == 1 and ctx.api_key_id is None


def test_several_companies_need_a_choice(
    session: Session, acme: Company, globex: Company, clock: FixedClock
) -> None:
    user = _user(session, "ivy", {acme: ["viewer"], globex: ["finance"]})
    token = _bearer(user, clock)
    with pytest.raises(BadRequest) as caught:
        _resolve(session, clock, authorization=token)
    assert caught.value.status_code == 400 and caught.value.code == "company_required"
    assert caught.value.details == {"companies": ["acme", "globex"]}
    ctx = _resolve(session, clock, authorization=token, company_slug="globex")
    assert ctx.currency == "USD" and ctx.roles == ("finance",)


def test_a_foreign_or_unknown_company_is_403_alike(
    session: Session, acme: Company, globex: Company, clock: FixedClock
) -> None:
    token = _bearer(_user(session, "jack", {acme: ["viewer"]}), clock)
    answers = []
    for slug in ("globex", "initech"):
        with pytest.raises(PermissionDenied) as caught:
            _resolve(session, clock, authorization=token, company_slug=slug)
        answers.append(caught.value.message.replace(slug, "?"))
    assert answers[0] == answers[1]


def test_an_inactive_company_is_not_offered(
    session: Session, acme: Company, globex: Company, clock: FixedClock
) -> None:
    user = _user(session, "kate", {acme: ["viewer"], globex: ["viewer"]})
    globex.is_active = False
    session.flush()
    ctx = _resolve(session, clock, authorization=_bearer(user, clock))
    assert ctx.company_slug == "acme"
    assert [c.slug for c in auth.user_companies(session, user.id)] == ["acme"]


def test_expired_tokens_and_inactive_users_are_401(
    session: Session, acme: Company, clock: FixedClock
) -> None:
    user = _user(session, "liam", {acme: ["viewer"]})
    token = _bearer(user, clock)
    clock.advance(dt.timedelta(minutes=SETTINGS.auth.token_ttl_minutes))
    with pytest.raises(NotAuthenticated, match="expired"):
        _resolve(session, clock, authorization=token)
    fresh = _bearer(user, clock)
    user.is_active = False
    with pytest.raises(NotAuthenticated) as caught:
        _resolve(session, clock, authorization=fresh)
    assert caught.value.details["reason"] == "inactive_user"
    ghost, _ = encode_token(SETTINGS.auth, 10**6, clock.now())
    with pytest.raises(NotAuthenticated):
        _resolve(session, clock, authorization=f"Bearer {ghost}")


def test_no_credentials_or_both_are_refused(session: Session, clock: FixedClock) -> None:
    with pytest.raises(NotAuthenticated) as missing:
        _resolve(session, clock)
    assert missing.value.details["reason"] == "missing_credentials"
    with pytest.raises(NotAuthenticated) as both:
        _resolve(session, clock, authorization="Bearer x", api_key="cmp_x")
    assert both.value.details["reason"] == "ambiguous_credentials"


# --- API keys ---------------------------------------------------------------------------


def _key(
    session: Session,
    user: User,
    company: Company,
    roles: list[str],
    expires_at: dt.datetime | None = None,
) -> tuple[ApiKey, str]:
    return auth.create_api_key(
        session,
        user_id=user.id,
        company_id=company.id,
        name="bot",
        roles=roles,
        expires_at=expires_at,
        now=NOW,
    )


def test_an_api_key_is_stored_hashed_and_resolves_to_its_company(
    session: Session, acme: Company, globex: Company, clock: FixedClock
) -> None:
    user = _user(session, "mia", {acme: ["finance", "sales"], globex: ["admin"]})
    key, plaintext = _key(session, user, acme, ["sales"])
    _, prefix, secret = plaintext.split("_", 2)
    assert key.prefix == prefix and len(secret) >= 40
    assert secret not in key.key_hash and plaintext not in str(vars(key))
    ctx = _resolve(session, clock, api_key=plaintext)
    assert ctx.company_slug == "acme" and ctx.roles == ("sales",)
    assert ctx.api_key_id == key.id and "finance.read" not in ctx.permissions
    # Signing in only reads; the key's use is stamped apart, once per resolution.
    assert key.last_used_at is None
    assert auth.api_key_use_due(session, ctx, NOW)
    assert auth.stamp_api_key_use(session, key.id, NOW)
    session.refresh(key)
    assert key.last_used_at == NOW
    assert not auth.api_key_use_due(session, ctx, NOW + dt.timedelta(minutes=1))
    assert not auth.stamp_api_key_use(session, key.id, NOW + dt.timedelta(minutes=1))
    later = NOW + auth.LAST_USED_RESOLUTION
    assert auth.api_key_use_due(session, ctx, later)
    assert auth.stamp_api_key_use(session, key.id, later)
    with pytest.raises(PermissionDenied):
        _resolve(session, clock, api_key=plaintext, company_slug="globex")


def test_an_api_key_cannot_hold_more_than_its_owner(session: Session, acme: Company) -> None:
    user = _user(session, "noah", {acme: ["sales"]})
    with pytest.raises(BusinessRuleViolation) as caught:
        _key(session, user, acme, ["sales", "finance"])
    assert caught.value.details["not_held"] == ["finance"]
    outsider = _user(session, "olga", {})
    with pytest.raises(NotFound):
        _key(session, outsider, acme, ["viewer"])
    with pytest.raises(ValidationFailed):
        _key(session, user, acme, [])
    with pytest.raises(ValidationFailed):
        _key(session, user, acme, ["sales"], expires_at=NOW - dt.timedelta(seconds=1))


def test_a_key_loses_roles_its_owner_lost(
    session: Session, acme: Company, clock: FixedClock
) -> None:
    user = _user(session, "pete", {acme: ["sales", "finance"]})
    _, plaintext = _key(session, user, acme, ["sales", "finance"])
    auth.set_membership(session, user.id, acme.id, ["sales"])
    assert _resolve(session, clock, api_key=plaintext).roles == ("sales",)


def test_revoked_expired_and_forged_keys_are_401(
    session: Session, acme: Company, clock: FixedClock
) -> None:
    user = _user(session, "quinn", {acme: ["viewer"]})
    revoked, revoked_text = _key(session, user, acme, ["viewer"])
    auth.revoke_api_key(session, revoked.id, now=NOW)
    auth.revoke_api_key(session, revoked.id, now=NOW + dt.timedelta(hours=1))  # idempotent
    assert revoked.revoked_at == NOW
    _, expiring = _key(session, user, acme, ["viewer"], expires_at=NOW + dt.timedelta(hours=1))
    clock.advance(dt.timedelta(hours=1))
    prefix = revoked_text.split("_")[1]
    for text, reason in (
        (revoked_text, "api_key_revoked"),
        (expiring, "api_key_expired"),
        (f"cmp_{prefix}_{'x' * 43}", "invalid_api_key"),
        ("cmp_ffffffffffff_" + "x" * 43, "invalid_api_key"),
        ("not-a-key", "invalid_api_key"),
    ):
        with pytest.raises(NotAuthenticated) as caught:
            _resolve(session, clock, api_key=text)
        assert caught.value.details["reason"] == reason
    with pytest.raises(NotFound):
        auth.revoke_api_key(session, 10**6)
    actions = session.execute(
        select(AuditEntry.action).where(AuditEntry.entity_type == "api_key")
    ).scalars()
    assert sorted(actions) == ["api_key.create", "api_key.create", "api_key.revoke"]


def test_keys_are_listed_per_company_and_per_owner(
    session: Session, acme: Company, globex: Company, clock: FixedClock
) -> None:
    admin = _user(session, "rita", {acme: ["admin"], globex: ["admin"]})
    member = _user(session, "sam", {acme: ["viewer"]})
    own, _ = _key(session, member, acme, ["viewer"])
    theirs, _ = _key(session, admin, acme, ["admin"])
    foreign, _ = _key(session, admin, globex, ["admin"])
    admin_ctx = _resolve(session, clock, authorization=_bearer(admin, clock), company_slug="acme")
    member_ctx = _resolve(session, clock, authorization=_bearer(member, clock))
    assert {k.id for k in auth.list_api_keys(session, admin_ctx)} == {own.id, theirs.id}
    assert [k.id for k in auth.list_api_keys(session, member_ctx)] == [own.id]
    for ctx, key_id in ((admin_ctx, foreign.id), (member_ctx, theirs.id)):
        with pytest.raises(NotFound):
            auth.get_api_key(session, ctx, key_id)
        with pytest.raises(NotFound):
            auth.revoke_api_key(session, key_id, ctx=ctx)
    assert session.get(ApiKey, foreign.id).revoked_at is None
