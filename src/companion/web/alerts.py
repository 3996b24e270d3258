"""The alerts API: list, unread count, read, dismiss, and act (a pending confirmation).

``act`` turns an alert's suggested action into a confirmation through the same two-phase
flow as chat (``assistant.actions.service.propose``), so it is executed only on
``POST /api/v1/ai/actions/{token}/confirm`` (or "yes" in the conversation it names).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, status
from pydantic import BaseModel, ConfigDict, Field

from companion.alerts import repository as repo
from companion.alerts import service
from companion.alerts.models import OPEN_STATUSES, AlertStatus
from companion.alerts.schemas import ActOut, AlertOut, UnreadCount
from companion.assistant import repository as chat_repo
from companion.assistant.actions import service as actions
from companion.errors import Conflict, ValidationFailed
from companion.kit.fields import Text
from companion.tenancy.context import RequestContext
from companion.web.deps import ContainerDep, Page, PageDep, RecordId, SessionDep, require

router = APIRouter(prefix="/ai/alerts", tags=["assistant"])
AlertUser = Annotated[RequestContext, Depends(require("ai.use"))]
STATUSES = frozenset(s.value for s in AlertStatus)


class ActIn(BaseModel):
    """Where the confirmation belongs: a chat conversation, so "yes" there confirms it."""

    model_config = ConfigDict(extra="forbid")

    conversation_id: Text | None = Field(default=None, min_length=1, max_length=64)


# Comma-separated statuses, as _split reads them (spaces and empty items ignored).
_ONE_STATUS = "|".join(sorted(STATUSES))
_STATUS_LIST = rf"^[\s,]*(({_ONE_STATUS})\s*(,[\s,]*({_ONE_STATUS})\s*)*[\s,]*)?$"


def _split(value: str | None, name: str, allowed: frozenset[str] | None = None) -> list[str]:
    """``a,b`` -> ["a", "b"]; an unknown status is a 422 naming the allowed ones."""
    parts = [p.strip() for p in (value or "").split(",") if p.strip()]
    if allowed is not None:
        bad = [p for p in parts if p not in allowed]
        if bad:
            raise ValidationFailed(
                f"Unknown {name} {', '.join(repr(b[:32]) for b in bad)}; use "
                + ", ".join(sorted(allowed)),
                details={name: bad[:10], "allowed": sorted(allowed)},
            )
    return parts


@router.get("", response_model=Page[AlertOut])
def list_alerts(
    session: SessionDep,
    ctx: AlertUser,
    page: PageDep,
    status_: Annotated[
        Text | None,
        # Stated in the OpenAPI; checked by _split, whose 422 names the allowed ones.
        Query(alias="status", max_length=100, json_schema_extra={"pattern": _STATUS_LIST}),
    ] = None,
    type_: Annotated[Text | None, Query(alias="type", max_length=200)] = None,
) -> Page[AlertOut]:
    """The caller's alerts (those their role may see), newest day first."""
    rows, total = repo.list_alerts(
        session,
        ctx,
        statuses=_split(status_, "status", STATUSES),
        types=_split(type_, "type"),
        limit=page.limit,
        offset=page.offset,
    )
    names = repo.usernames(session, (r.assignee_id for r in rows))
    return Page(
        items=[AlertOut.of(r, names) for r in rows],
        total=total,
        limit=page.limit,
        offset=page.offset,
    )


@router.get("/unread-count", response_model=UnreadCount)
def unread_count(session: SessionDep, ctx: AlertUser) -> UnreadCount:
    """How many alerts the caller may see are unread (the widget's badge)."""
    count = repo.unread_count(session, ctx)
    return UnreadCount(count=count, unread=count)


@router.get("/{alert_id}", response_model=AlertOut)
def get_alert(alert_id: RecordId, session: SessionDep, ctx: AlertUser) -> AlertOut:
    """One alert; another company's, or one the caller's role may not see, is a 404."""
    alert = repo.get_alert(session, ctx, alert_id)
    return AlertOut.of(alert, repo.usernames(session, [alert.assignee_id]))


@router.post("/{alert_id}/read", response_model=AlertOut)
def mark_read(
    alert_id: RecordId, session: SessionDep, ctx: AlertUser, container: ContainerDep
) -> AlertOut:
    """Mark an unread alert read (anything else is left as it is)."""
    return AlertOut.of(service.mark_read(session, ctx, alert_id, container.clock.now()))


@router.post("/{alert_id}/dismiss", response_model=AlertOut)
def dismiss(
    alert_id: RecordId, session: SessionDep, ctx: AlertUser, container: ContainerDep
) -> AlertOut:
    """Dismiss an alert (409 once it has been acted on)."""
    return AlertOut.of(service.dismiss(session, ctx, alert_id, container.clock.now()))


@router.post("/{alert_id}/act", response_model=ActOut, status_code=status.HTTP_201_CREATED)
def act(
    alert_id: RecordId,
    session: SessionDep,
    ctx: AlertUser,
    container: ContainerDep,
    body: ActIn | None = None,
) -> ActOut:
    """Open the confirmation of the alert's suggested action; nothing else is done yet."""
    now = container.clock.now()
    alert = repo.get_alert(session, ctx, alert_id, for_update=True)
    suggestion = alert.suggested_action
    if not suggestion or not isinstance(suggestion.get("action"), str):
        raise Conflict("This alert has no suggested action", details={"alert_id": alert_id})
    if alert.status not in OPEN_STATUSES:
        raise Conflict(
            f"This alert is already {alert.status}",
            details={"alert_id": alert_id, "status": alert.status, "token": alert.action_token},
        )
    conversation_id = body.conversation_id if body else None
    if conversation_id is not None:
        chat_repo.get_conversation(session, ctx, conversation_id)
    handler = actions.handler_of(suggestion["action"])
    row = actions.propose(
        session,
        ctx,
        handler,
        dict(suggestion.get("params") or {}),
        now=now,
        settings=container.settings.actions,
        conversation_id=conversation_id,
    )
    if not service.claim_for_action(session, ctx, alert_id, now, row.token):
        # Another request acted first; this one's proposal is rolled back with the request.
        raise Conflict("This alert was acted on meanwhile", details={"alert_id": alert_id})
    acted = repo.get_alert(session, ctx, alert_id)
    return ActOut(
        alert=AlertOut.of(acted, repo.usernames(session, [acted.assignee_id])),
        pending_confirmation={
            "token": row.token,
            "action": row.action,
            "summary": row.summary,
            "expires_at": row.expires_at,
            "preview": row.preview,
        },
    )
