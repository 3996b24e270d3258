"""The public JSON of an alert (``GET /api/v1/ai/alerts``) and of its unread count."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from companion.alerts.models import Alert


class AssigneeOut(BaseModel):
    id: int
    username: str


class AlertOut(BaseModel):
    id: int
    type: str
    severity: str
    title: str
    message: str
    module: str
    record_ref: str | None
    on_date: dt.date
    expected: Decimal | None
    observed: Decimal | None
    suggested_action: dict[str, Any] | None
    assignee: AssigneeOut | None
    status: str
    details: dict[str, Any]
    action_token: str | None
    created_at: dt.datetime

    @classmethod
    def of(cls, alert: Alert, usernames: dict[int, str] | None = None) -> AlertOut:
        """The public shape; ``usernames`` names the assignee."""
        names = usernames or {}
        assignee = None
        if alert.assignee_id is not None:
            assignee = AssigneeOut(
                id=alert.assignee_id,
                username=names.get(alert.assignee_id, f"user {alert.assignee_id}"),
            )
        return cls(
            id=alert.id,
            type=alert.type,
            severity=alert.severity,
            title=alert.title,
            message=alert.message,
            module=alert.module,
            record_ref=alert.record_ref,
            on_date=alert.on_date,
            expected=alert.expected,
            observed=alert.observed,
            suggested_action=alert.suggested_action,
            assignee=assignee,
            status=alert.status,
            details=alert.details or {},
            action_token=alert.action_token,
            created_at=alert.created_at,
        )


class UnreadCount(BaseModel):
    """``count``: unread alerts the caller may see (``unread`` is the same, for old widgets)."""

    count: int
    unread: int


class ActOut(BaseModel):
    """The alert, now acted on, and the confirmation its suggested action opened."""

    alert: AlertOut
    pending_confirmation: dict[str, Any]
