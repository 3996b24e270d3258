"""The actions API's request and response bodies."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from companion.assistant.actions import service
from companion.assistant.actions.models import AiAction
from companion.assistant.actions.settings import ActionRule
from companion.kit.fields import Text


class ProposeIn(BaseModel):
    """Propose an action directly (the chat does this from the conversation)."""

    model_config = ConfigDict(extra="forbid")

    action: Text = Field(min_length=1, max_length=64)
    params: dict[str, Any] = Field(default_factory=dict)


class ActionOut(BaseModel):
    token: str
    action: str
    status: str
    summary: str
    preview: dict[str, Any]
    amount: Decimal | None
    document_ref: str | None
    expires_at: dt.datetime
    requested_by: int
    first_confirmed_by: int | None
    executed_by: int | None
    conversation_id: str | None
    result: dict[str, Any] | None
    created_at: dt.datetime

    @classmethod
    def of(cls, row: AiAction, now: dt.datetime) -> ActionOut:
        """The public shape of a confirmation, with the status as of ``now``."""
        return cls(
            token=row.token,
            action=row.action,
            status=service.status_now(row, now),
            summary=row.summary,
            preview=row.preview,
            amount=row.amount,
            document_ref=row.document_ref,
            expires_at=row.expires_at,
            requested_by=row.user_id,
            first_confirmed_by=row.first_confirmed_by,
            executed_by=row.executed_by,
            conversation_id=row.conversation_id,
            result=row.result,
            created_at=row.created_at,
        )


class ConfirmOut(BaseModel):
    """What a confirmation did: executed (message, document) or awaiting a second approver."""

    token: str
    status: str
    message: str
    document_ref: str | None
    result: dict[str, Any] | None
    action: ActionOut


class ActionSettingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    disabled: bool = False
    second_approval_above: Decimal | None = Field(
        default=None, ge=0, max_digits=18, decimal_places=2
    )


class ActionSettingOut(BaseModel):
    action: str
    disabled: bool
    second_approval_above: Decimal | None

    @classmethod
    def of(cls, rule: ActionRule) -> ActionSettingOut:
        return cls(
            action=rule.action,
            disabled=rule.disabled,
            second_approval_above=rule.second_approval_above,
        )
