"""Each company's rules for AI actions: an action type disabled, or a second approver above."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.orm import Session

from companion.assistant.actions import repository as repo
from companion.assistant.actions.base import all_actions
from companion.assistant.actions.models import AiActionSetting
from companion.audit import service as audit
from companion.errors import NotFound, ValidationFailed
from companion.tenancy.context import RequestContext


@dataclass(frozen=True)
class ActionRule:
    """The effective rule for one action in one company (defaults when none was set)."""

    action: str
    disabled: bool = False
    second_approval_above: Decimal | None = None


def rule_for(session: Session, ctx: RequestContext, action: str) -> ActionRule:
    """The company's rule for ``action``."""
    row = repo.get_setting(session, ctx, action)
    if row is None:
        return ActionRule(action)
    return ActionRule(action, row.disabled, row.second_approval_above)


def list_rules(session: Session, ctx: RequestContext) -> list[ActionRule]:
    """Every registered action with the company's rule for it."""
    stored = {row.action: row for row in repo.list_settings(session, ctx)}
    return [
        ActionRule(name, stored[name].disabled, stored[name].second_approval_above)
        if name in stored
        else ActionRule(name)
        for name in all_actions()
    ]


def set_rule(
    session: Session,
    ctx: RequestContext,
    action: str,
    *,
    disabled: bool,
    second_approval_above: Decimal | None,
) -> ActionRule:
    """Change the company's rule for ``action`` (ai.admin), audited."""
    ctx.require("ai.admin")
    if action not in all_actions():
        raise NotFound(f"There is no action called '{action}'", details={"action": action})
    if second_approval_above is not None and second_approval_above < 0:
        raise ValidationFailed(
            "The second-approval threshold cannot be negative",
            details={"second_approval_above": str(second_approval_above)},
        )
    row = repo.get_setting(session, ctx, action)
    old = None if row is None else {"disabled": row.disabled, "above": row.second_approval_above}
    if row is None:
        row = AiActionSetting(company_id=ctx.company_id, action=action)
        session.add(row)
    row.disabled = disabled
    row.second_approval_above = second_approval_above
    session.flush()
    audit.record(
        session,
        ctx,
        "ai.action_setting.set",
        "ai_action_setting",
        row.id,
        old=old,
        new={"action": action, "disabled": disabled, "above": second_approval_above},
    )
    return ActionRule(action, disabled, second_approval_above)
