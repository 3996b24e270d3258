"""The actions API: propose, list, confirm, cancel, and the company's action settings."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Path, Query, Request, status
from fastapi.responses import JSONResponse

from companion.assistant.actions import repository as repo
from companion.assistant.actions import service
from companion.assistant.actions import settings as action_settings
from companion.assistant.actions.base import action_for, all_actions
from companion.assistant.actions.schemas import (
    ActionOut,
    ActionSettingIn,
    ActionSettingOut,
    ConfirmOut,
    ProposeIn,
)
from companion.assistant.actions.sweep import Sweeper
from companion.errors import RateLimited
from companion.kit.fields import Text
from companion.tenancy.context import RequestContext
from companion.web.deps import ContainerDep, Page, PageDep, SessionDep, require
from companion.web.errors import render


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """The expiry sweep runs beside the server, unless its interval is 0."""
    container = app.state.container
    interval = container.settings.actions.sweep_interval_seconds
    sweeper = Sweeper(container.session_factory, container.clock, interval) if interval else None
    if sweeper is not None:
        sweeper.start()
    try:
        yield
    finally:
        if sweeper is not None:
            sweeper.stop()


router = APIRouter(prefix="/ai/actions", tags=["assistant"], lifespan=_lifespan)
ActionUser = Annotated[RequestContext, Depends(require("ai.use"))]
ActionAdmin = Annotated[RequestContext, Depends(require("ai.admin"))]
Token = Annotated[Text, Path(min_length=1, max_length=64)]
ActionName = Annotated[Text, Path(min_length=1, max_length=64)]


def _rate_limited(error: RateLimited, request: Request) -> JSONResponse:
    return render(error, request, {"Retry-After": str(error.details.get("retry_after", 60))})


@router.get("", response_model=Page[ActionOut])
def list_actions(
    session: SessionDep,
    ctx: ActionUser,
    container: ContainerDep,
    page: PageDep,
    status_: Annotated[Text | None, Query(alias="status", max_length=32)] = None,
) -> Page[ActionOut]:
    """The caller's confirmations (and those awaiting their second approval), newest first."""
    seconds = [a for a in all_actions() if (h := action_for(a)) and ctx.can(h.permission)]
    rows, total = repo.list_actions(
        session,
        ctx,
        second_approval_actions=seconds,
        status=status_,
        limit=page.limit,
        offset=page.offset,
    )
    now = container.clock.now()
    return Page(
        items=[ActionOut.of(r, now) for r in rows],
        total=total,
        limit=page.limit,
        offset=page.offset,
    )


@router.post(
    "",
    response_model=ActionOut,
    status_code=status.HTTP_201_CREATED,
    responses={429: {"description": "Too many proposals; see Retry-After"}},
)
def propose_action(
    body: ProposeIn,
    request: Request,
    session: SessionDep,
    ctx: ActionUser,
    container: ContainerDep,
) -> ActionOut | JSONResponse:
    """Validate an action and store it for confirmation; nothing else is written."""
    handler = service.handler_of(body.action)
    now = container.clock.now()
    try:
        row = service.propose(
            session, ctx, handler, body.params, now=now, settings=container.settings.actions
        )
    except RateLimited as exc:
        return _rate_limited(exc, request)
    return ActionOut.of(row, now)


@router.get("/settings", response_model=list[ActionSettingOut])
def list_action_settings(session: SessionDep, ctx: ActionAdmin) -> list[ActionSettingOut]:
    """Every action with the company's rule for it (disabled, second-approval threshold)."""
    return [ActionSettingOut.of(r) for r in action_settings.list_rules(session, ctx)]


@router.put("/settings/{action}", response_model=ActionSettingOut)
def put_action_setting(
    action: ActionName, body: ActionSettingIn, session: SessionDep, ctx: ActionAdmin
) -> ActionSettingOut:
    """Disable an action for the assistant, or require a second approver above an amount."""
    rule = action_settings.set_rule(
        session,
        ctx,
        action,
        disabled=body.disabled,
        second_approval_above=body.second_approval_above,
    )
    return ActionSettingOut.of(rule)


@router.get("/{token}", response_model=ActionOut)
def get_action(
    token: Token, session: SessionDep, ctx: ActionUser, container: ContainerDep
) -> ActionOut:
    """One confirmation the caller may see (another user's or company's is a 404)."""
    return ActionOut.of(service.visible(session, ctx, token), container.clock.now())


@router.post("/{token}/confirm", response_model=ConfirmOut)
def confirm_action(
    token: Token, request: Request, session: SessionDep, ctx: ActionUser, container: ContainerDep
) -> ConfirmOut | JSONResponse:
    """Carry the action out exactly once (409 with the first result for a repeat)."""
    now = container.clock.now()
    try:
        confirmed = service.confirm(
            session, ctx, token, now=now, settings=container.settings.actions
        )
    except service.ExecutionFailed as exc:
        # The confirmation is marked failed: answer with the ERP's error and keep that.
        return render(exc, request)
    row = confirmed.action
    return ConfirmOut(
        token=row.token,
        status=row.status,
        message=service.describe(confirmed),
        document_ref=confirmed.outcome.document_ref if confirmed.outcome else None,
        result=row.result,
        action=ActionOut.of(row, now),
    )


@router.post("/{token}/cancel", response_model=ActionOut)
def cancel_action(
    token: Token, session: SessionDep, ctx: ActionUser, container: ContainerDep
) -> ActionOut:
    """Cancel a confirmation that is still open; nothing is done."""
    now = container.clock.now()
    return ActionOut.of(service.cancel(session, ctx, token, now=now), now)
