"""The handler registry and ``dry_run`` (exact previews by executing, then rolling back)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from action_world import World
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from companion.assistant.actions.base import (
    Ask,
    Outcome,
    Proposal,
    action_for,
    all_actions,
    dry_run,
    register_action,
)
from companion.audit.models import AuditEntry
from companion.erp.parties.models import Customer
from companion.erp.parties.schemas import CustomerIn
from companion.erp.parties.service import create_customer
from companion.errors import Conflict
from companion.tenancy.context import RequestContext


class _Noop:
    action = "approve_purchase_order"
    permission = "procurement.approve"

    def gather(
        self,
        session: Session,
        ctx: RequestContext,
        params: dict[str, Any],
        entities: dict[str, Any],
        text: str,
        today: dt.date,
    ) -> dict[str, Any]:
        return params

    def missing(self, session: Session, ctx: RequestContext, params: dict[str, Any]) -> Ask | None:
        return None

    def propose(self, session: Session, ctx: RequestContext, params: dict[str, Any]) -> Proposal:
        return Proposal(summary="", preview={}, params=params)

    def execute(self, session: Session, ctx: RequestContext, params: dict[str, Any]) -> Outcome:
        return Outcome(message="", document_ref=None, result={})


def test_shipped_handlers_register_themselves_on_first_lookup() -> None:
    handler = action_for("approve_purchase_order")
    assert handler is not None and handler.permission == "procurement.approve"
    assert {"approve_purchase_order", "reject_purchase_order"} <= set(all_actions())
    assert action_for("no_such_action") is None


def test_a_second_handler_for_one_action_is_refused(registry: dict[str, Any]) -> None:
    shipped = action_for("approve_purchase_order")
    with pytest.raises(ValueError, match="already registered"):
        register_action(_Noop())
    assert action_for("approve_purchase_order") is shipped
    assert register_action(shipped) is shipped  # registering the same one again is harmless


def _customers(session: Session, world: World) -> int:
    stmt = select(func.count()).select_from(Customer)
    return int(
        session.execute(stmt.where(Customer.company_id == world.shop.company.id)).scalar_one()
    )


def _audit(session: Session) -> int:
    return int(session.execute(select(func.count()).select_from(AuditEntry)).scalar_one())


def test_dry_run_returns_what_the_service_produced_and_keeps_nothing(
    session: Session, world: World
) -> None:
    before, audit_before = _customers(session, world), _audit(session)

    def create() -> tuple[str, str]:
        customer = create_customer(session, world.shop.sales, CustomerIn(name="Preview Ltd"))
        return customer.code, customer.name

    code, name = dry_run(session, create)
    assert name == "Preview Ltd" and code
    assert _customers(session, world) == before
    assert _audit(session) == audit_before
    # The real thing afterwards gets the same number the preview showed: nothing was used up.
    real = create_customer(session, world.shop.sales, CustomerIn(name="Preview Ltd"))
    assert real.code == code
    assert _customers(session, world) == before + 1


def test_dry_run_rolls_back_when_the_service_refuses(session: Session, world: World) -> None:
    before = _customers(session, world)

    def twice() -> None:
        create_customer(session, world.shop.sales, CustomerIn(name="Twin"))
        create_customer(session, world.shop.sales, CustomerIn(name="Twin"))

    with pytest.raises(Conflict):
        dry_run(session, twice)
    assert _customers(session, world) == before
    # The session is still usable after the refused preview.
    create_customer(session, world.shop.sales, CustomerIn(name="Twin"))
    assert _customers(session, world) == before + 1
