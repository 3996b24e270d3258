"""Propose, confirm, cancel, expiry, second approval, disabled actions and the rate limit."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from action_world import NOW, SETTINGS, World, make_world
from sqlalchemy import select
from sqlalchemy.orm import Session

from companion.assistant.actions import service
from companion.assistant.actions.models import AiAction
from companion.assistant.actions.settings import list_rules, rule_for, set_rule
from companion.assistant.actions.sweep import expire_pending
from companion.audit.models import AuditEntry
from companion.audit.service import verify
from companion.config import ActionSettings
from companion.erp.purchasing.models import PurchaseOrder
from companion.errors import NotFound, PermissionDenied, RateLimited, ValidationFailed
from companion.tenancy.context import RequestContext

APPROVE = "approve_purchase_order"


def _propose(
    session: Session,
    ctx: RequestContext,
    order: PurchaseOrder,
    *,
    now: dt.datetime = NOW,
    settings: ActionSettings = SETTINGS,
    message_id: str | None = None,
) -> AiAction:
    handler = service.handler_of(APPROVE)
    return service.propose(
        session,
        ctx,
        handler,
        {"document_ref": order.number},
        now=now,
        settings=settings,
        message_id=message_id,
    )


def _status(session: Session, order: PurchaseOrder) -> str:
    session.refresh(order)
    return order.status


def test_propose_stores_a_pending_confirmation_and_changes_nothing(
    session: Session, world: World
) -> None:
    order = world.po(session, "500")
    row = _propose(session, world.shop.buyer, order)
    assert row.status == "pending"
    assert row.expires_at == NOW + dt.timedelta(seconds=300)
    assert row.amount == Decimal("500.00") and row.document_ref == order.number
    assert row.params["order_id"] == order.id and row.params["level"] == 1
    assert row.summary.startswith(f"Approve {order.number} (Acme Supplier, USD 500.00) at level 1")
    assert row.preview["documents"][0]["status_after"] == "approved"
    assert _status(session, order) == "pending_approval"
    assert [t.status for t in order.tasks] == ["pending"]


def test_confirm_executes_once_with_an_audit_entry_linked_to_the_message(
    session: Session, world: World
) -> None:
    order = world.po(session, "500")
    row = _propose(session, world.shop.buyer, order, message_id="msg-1")
    done = service.confirm(session, world.shop.buyer, row.token, now=NOW, settings=SETTINGS)
    assert done.outcome is not None and done.outcome.document_ref == order.number
    assert "Approved" in done.outcome.message
    assert done.action.status == "executed" and done.action.executed_by == world.shop.buyer.user_id
    assert done.action.result is not None and done.action.result["status"] == "approved"
    assert _status(session, order) == "approved"
    entries = session.execute(
        select(AuditEntry).where(AuditEntry.company_id == world.shop.company.id)
    ).scalars()
    by_action = {e.action: e for e in entries}
    executed, approved = by_action["ai.action.executed"], by_action["purchase_order.approve"]
    assert executed.via_ai and approved.via_ai
    assert executed.conversation_message_id == "msg-1"
    assert approved.conversation_message_id == "msg-1"  # the ERP's own entry links too
    assert executed.entity_id == row.token
    assert verify(session).ok

    with pytest.raises(service.AlreadyDecided) as again:
        service.confirm(session, world.shop.buyer, row.token, now=NOW, settings=SETTINGS)
    assert again.value.status_code == 409
    assert again.value.details["status"] == "executed"
    assert again.value.details["document_ref"] == order.number
    assert again.value.details["result"]["status"] == "approved"


def test_a_token_is_the_callers_own(session: Session, world: World) -> None:
    order = world.po(session, "500")
    row = _propose(session, world.shop.buyer, order)
    other = make_world(session, "globex")
    for stranger in (world.buyer2, other.shop.buyer, world.shop.admin):
        with pytest.raises(NotFound):
            service.confirm(session, stranger, row.token, now=NOW, settings=SETTINGS)
        with pytest.raises(NotFound):
            service.cancel(session, stranger, row.token, now=NOW)
        with pytest.raises(NotFound):
            service.visible(session, stranger, row.token)
    assert _status(session, order) == "pending_approval"


def test_cancel_does_nothing_and_closes_the_token(session: Session, world: World) -> None:
    order = world.po(session, "500")
    row = _propose(session, world.shop.buyer, order)
    cancelled = service.cancel(session, world.shop.buyer, row.token, now=NOW)
    assert cancelled.status == "cancelled"
    with pytest.raises(service.AlreadyDecided, match="cancelled"):
        service.confirm(session, world.shop.buyer, row.token, now=NOW, settings=SETTINGS)
    assert _status(session, order) == "pending_approval"


def test_an_expired_token_answers_clearly_does_nothing_and_is_swept(
    session: Session, world: World
) -> None:
    order = world.po(session, "500")
    row = _propose(session, world.shop.buyer, order)
    fresh = _propose(
        session, world.shop.buyer, world.po(session, "600"), now=NOW + dt.timedelta(minutes=4)
    )
    late = NOW + dt.timedelta(seconds=300)
    with pytest.raises(service.ActionExpired) as expired:
        service.confirm(session, world.shop.buyer, row.token, now=late, settings=SETTINGS)
    assert expired.value.code == "expired" and expired.value.status_code == 409
    assert "expired" in expired.value.message
    assert _status(session, order) == "pending_approval"
    assert service.status_now(row, late) == "expired"

    assert expire_pending(session, late) == 1
    session.refresh(row)
    session.refresh(fresh)
    assert row.status == "expired" and fresh.status == "pending"
    assert expire_pending(session, late) == 0  # idempotent
    with pytest.raises(service.ActionExpired):
        service.confirm(session, world.shop.buyer, row.token, now=NOW, settings=SETTINGS)


def test_above_the_threshold_a_different_user_must_give_the_second_approval(
    session: Session, world: World
) -> None:
    set_rule(
        session, world.shop.admin, APPROVE, disabled=False, second_approval_above=Decimal("800")
    )
    order = world.po(session, "900")
    row = _propose(session, world.shop.buyer, order)
    first = service.confirm(session, world.shop.buyer, row.token, now=NOW, settings=SETTINGS)
    assert first.awaiting_second_approval and first.outcome is None
    assert first.action.status == "awaiting_second_approval"
    assert first.action.first_confirmed_by == world.shop.buyer.user_id
    assert "different user" in service.describe(first)
    assert _status(session, order) == "pending_approval"

    with pytest.raises(service.SecondApproverRequired) as same:
        service.confirm(session, world.shop.buyer, row.token, now=NOW, settings=SETTINGS)
    assert same.value.status_code == 409
    # Someone without the permission cannot even see it.
    with pytest.raises(NotFound):
        service.confirm(session, world.shop.sales, row.token, now=NOW, settings=SETTINGS)

    later = NOW + dt.timedelta(minutes=1)
    second = service.confirm(session, world.buyer2, row.token, now=later, settings=SETTINGS)
    assert second.outcome is not None and second.action.status == "executed"
    assert second.action.executed_by == world.buyer2.user_id
    assert _status(session, order) == "approved"
    # The ERP records the decision under the user who carried it out.
    assert [t.decided_by_id for t in order.tasks] == [world.buyer2.user_id]


def test_at_or_below_the_threshold_one_confirmation_is_enough(
    session: Session, world: World
) -> None:
    set_rule(
        session, world.shop.admin, APPROVE, disabled=False, second_approval_above=Decimal("800")
    )
    row = _propose(session, world.shop.buyer, world.po(session, "800"))
    done = service.confirm(session, world.shop.buyer, row.token, now=NOW, settings=SETTINGS)
    assert done.action.status == "executed"


def test_a_disabled_action_is_refused_with_a_pointer_to_the_erp(
    session: Session, world: World
) -> None:
    order = world.po(session, "500")
    pending = _propose(session, world.shop.buyer, order)
    set_rule(session, world.shop.admin, APPROVE, disabled=True, second_approval_above=None)
    assert rule_for(session, world.shop.buyer, APPROVE).disabled
    with pytest.raises(service.ActionDisabled, match="do it in the ERP") as refused:
        _propose(session, world.shop.buyer, order)
    assert refused.value.status_code == 403
    # A proposal made before the switch cannot be carried out either.
    with pytest.raises(service.ActionDisabled):
        service.confirm(session, world.shop.buyer, pending.token, now=NOW, settings=SETTINGS)
    assert _status(session, order) == "pending_approval"
    # Another company is not affected.
    other = make_world(session, "globex")
    assert not rule_for(session, other.shop.buyer, APPROVE).disabled


def test_settings_need_ai_admin_and_a_known_action(session: Session, world: World) -> None:
    with pytest.raises(PermissionDenied):
        set_rule(session, world.shop.buyer, APPROVE, disabled=True, second_approval_above=None)
    with pytest.raises(NotFound):
        set_rule(
            session, world.shop.admin, "fly_to_moon", disabled=True, second_approval_above=None
        )
    with pytest.raises(ValidationFailed):
        set_rule(
            session, world.shop.admin, APPROVE, disabled=False, second_approval_above=Decimal("-1")
        )
    rules = {r.action: r for r in list_rules(session, world.shop.admin)}
    assert APPROVE in rules and not rules[APPROVE].disabled


def test_proposals_are_rate_limited_per_user(session: Session, world: World) -> None:
    order = world.po(session, "500")
    tight = ActionSettings(expiry_seconds=300, proposals_per_minute=3)
    for second in range(3):
        _propose(
            session,
            world.shop.buyer,
            order,
            now=NOW + dt.timedelta(seconds=second * 10),
            settings=tight,
        )
    at = NOW + dt.timedelta(seconds=30)
    with pytest.raises(RateLimited) as limited:
        _propose(session, world.shop.buyer, order, now=at, settings=tight)
    assert limited.value.status_code == 429
    assert limited.value.details["retry_after"] == 30  # the first one leaves the window at 60 s
    assert "wait 30 seconds" in limited.value.message
    # Another user is not limited by this one's proposals.
    _propose(session, world.buyer2, order, now=at, settings=tight)
    # A minute after the first, one slot is free again.
    _propose(session, world.shop.buyer, order, now=NOW + dt.timedelta(seconds=61), settings=tight)


def test_a_refusal_at_execution_marks_the_confirmation_failed(
    session: Session, world: World
) -> None:
    order = world.po(session, "500")
    row = _propose(session, world.shop.buyer, order)
    # Between proposal and confirmation someone else decides the level in the ERP.
    from companion.erp.purchasing.service import reject_purchase_order

    reject_purchase_order(session, world.buyer2, order.id, comment="too dear")
    with pytest.raises(service.ExecutionFailed) as failed:
        service.confirm(session, world.shop.buyer, row.token, now=NOW, settings=SETTINGS)
    assert failed.value.status_code == 409 and failed.value.details["status"] == "failed"
    stored = service.visible(session, world.shop.buyer, row.token)
    assert stored.status == "failed"
    assert stored.result is not None and "rejected" in stored.result["error"]["message"]
    assert _status(session, order) == "rejected"
    executed = session.execute(
        select(AuditEntry).where(AuditEntry.action == "ai.action.executed")
    ).first()
    assert executed is None


def test_missing_permission_at_confirmation_is_refused_before_anything(
    session: Session, world: World
) -> None:
    order = world.po(session, "500")
    row = _propose(session, world.shop.buyer, order)
    demoted = RequestContext(**{**world.shop.buyer.__dict__, "permissions": frozenset({"ai.use"})})
    with pytest.raises(PermissionDenied):
        service.confirm(session, demoted, row.token, now=NOW, settings=SETTINGS)
    assert service.visible(session, world.shop.buyer, row.token).status == "pending"


def test_a_second_approver_the_erp_refuses_changes_nothing(session: Session, world: World) -> None:
    set_rule(
        session, world.shop.admin, APPROVE, disabled=False, second_approval_above=Decimal("100")
    )
    order = world.po(session, "500")
    row = _propose(session, world.shop.buyer, order)
    service.confirm(session, world.shop.buyer, row.token, now=NOW, settings=SETTINGS)
    # The executive may approve purchase orders, but level 1 belongs to procurement.
    with pytest.raises(PermissionDenied, match="level 1"):
        service.confirm(session, world.shop.executive, row.token, now=NOW, settings=SETTINGS)
    assert service.visible(session, world.buyer2, row.token).status == "awaiting_second_approval"
    assert _status(session, order) == "pending_approval"
