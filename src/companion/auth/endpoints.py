"""HTTP endpoints of auth: log in, who am I, and the company's API keys."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request

from companion.auth import service
from companion.auth.models import ApiKey
from companion.auth.schemas import (
    ActiveCompanyOut,
    ApiKeyCreatedOut,
    ApiKeyIn,
    ApiKeyOut,
    CompanyAccessOut,
    LoginIn,
    LoginOut,
    MeOut,
    UserOut,
)
from companion.errors import NotAuthenticated
from companion.kit.fields import Id
from companion.tenancy.context import RequestContext
from companion.web.deps import ContainerDep, ContextDep, SessionDep, require

router = APIRouter()
log = logging.getLogger(__name__)

KeyId = Annotated[Id, Path(description="The API key's id")]


def _companies(accesses: list[service.CompanyAccess]) -> list[CompanyAccessOut]:
    return [CompanyAccessOut(slug=a.slug, name=a.name, roles=list(a.roles)) for a in accesses]


def _key_out(key: ApiKey) -> ApiKeyOut:
    return ApiKeyOut.model_validate(key)


@router.post(
    "/auth/login",
    tags=["auth"],
    summary="Exchange a username and password for a token",
    responses={401: {"description": "Unknown username or wrong password"}},
)
def login(
    body: LoginIn, session: SessionDep, container: ContainerDep, request: Request
) -> LoginOut:
    """A bearer token for the user, and the companies and roles it gives access to.

    Failed sign-ins are limited per username and per address (``COMPANION_RATE_LIMITS__*``):
    past the limit the next try is a 429 with Retry-After, before any password is checked.
    """
    limiter = container.rate_limiter()
    address = request.client.host if request.client else None
    limiter.check_login(body.username, address)
    try:
        user = service.authenticate(
            session, container.password_hasher, body.username, body.password
        )
    except NotAuthenticated:
        log.info("login refused", extra={"username": body.username})
        limiter.login_failed(body.username, address)
        raise
    token, expires_at = service.issue_token(container.settings, container.clock, user)
    return LoginOut(
        access_token=token,
        expires_at=expires_at,
        user=UserOut.model_validate(user),
        companies=_companies(service.user_companies(session, user.id)),
    )


@router.get("/me", tags=["auth"], summary="The caller, the active company and permissions")
def me(ctx: ContextDep, session: SessionDep) -> MeOut:
    """Who is calling, in which company, with which roles and permissions."""
    user = service.get_user(session, ctx.user_id)
    accesses = service.user_companies(session, ctx.user_id)
    if ctx.api_key_id is not None:
        # A key belongs to one company: its holder learns nothing of the owner's others.
        accesses = [a for a in accesses if a.slug == ctx.company_slug]
    name = next((a.name for a in accesses if a.slug == ctx.company_slug), ctx.company_slug)
    return MeOut(
        user=UserOut.model_validate(user),
        company=ActiveCompanyOut(slug=ctx.company_slug, name=name, currency=ctx.currency),
        roles=list(ctx.roles),
        permissions=sorted(ctx.permissions),
        companies=_companies(accesses),
        api_key_id=ctx.api_key_id,
    )


@router.post(
    "/api-keys", status_code=201, tags=["api keys"], summary="Create an API key (shown once)"
)
def create_api_key(
    body: ApiKeyIn,
    session: SessionDep,
    container: ContainerDep,
    ctx: Annotated[RequestContext, Depends(require("admin.users"))],
) -> ApiKeyCreatedOut:
    """A key of the active company for the caller or another member, with a subset of roles."""
    key, plaintext = service.create_api_key(
        session,
        user_id=body.user_id or ctx.user_id,
        company_id=ctx.company_id,
        name=body.name,
        roles=body.roles,
        expires_at=body.expires_at,
        ctx=ctx,
        now=container.clock.now(),
    )
    return ApiKeyCreatedOut(**_key_out(key).model_dump(), key=plaintext)


@router.get("/api-keys", tags=["api keys"], summary="List API keys")
def list_api_keys(ctx: ContextDep, session: SessionDep) -> list[ApiKeyOut]:
    """The company's keys for administrators, the caller's own keys for everyone else."""
    return [_key_out(k) for k in service.list_api_keys(session, ctx)]


@router.get("/api-keys/{key_id}", tags=["api keys"], summary="One API key")
def get_api_key(key_id: KeyId, ctx: ContextDep, session: SessionDep) -> ApiKeyOut:
    """One key of the active company (without its secret)."""
    return _key_out(service.get_api_key(session, ctx, key_id))


@router.delete("/api-keys/{key_id}", tags=["api keys"], summary="Revoke an API key")
def revoke_api_key(
    key_id: KeyId, ctx: ContextDep, session: SessionDep, container: ContainerDep
) -> ApiKeyOut:
    """Revoke a key of the active company; revoking twice is harmless."""
    key = service.revoke_api_key(session, key_id, ctx=ctx, now=container.clock.now())
    return _key_out(key)
