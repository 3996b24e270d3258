"""Exactly once with real concurrent sessions, and after a restart, on SQLite and PostgreSQL.

These tests need committed data seen by several connections, so they use a database of
their own (not the rolled-back test transaction of the ``session`` fixture).
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from action_world import NOW, SETTINGS, World, make_world
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from companion.assistant.actions import service
from companion.assistant.actions.settings import set_rule
from companion.audit.models import AuditEntry
from companion.audit.service import verify
from companion.erp.purchasing.models import ApprovalTask, PurchaseOrder
from companion.errors import CompanionError
from companion.kit import migrate
from companion.kit.db import begin_for_writing, make_engine, make_session_factory, session_scope
from companion.tenancy.context import RequestContext
from dbutil import new_database_url

RACERS = 6


@dataclass
class Shared:
    url: str
    engine: Engine
    factory: sessionmaker[Session]
    world: World


@pytest.fixture(scope="module")
def shared(
    backend: str, tmp_path_factory: pytest.TempPathFactory, pg_database_factory: list[str]
) -> Iterator[Shared]:
    url = new_database_url(
        backend, Path(tmp_path_factory.mktemp("actions-race")), pg_database_factory
    )
    engine = make_engine(url)
    migrate.upgrade(engine)
    factory = make_session_factory(engine)
    with session_scope(factory) as session:
        world = make_world(session)
        set_rule(
            session,
            world.shop.admin,
            "reject_purchase_order",
            disabled=False,
            second_approval_above=Decimal("100"),
        )
    yield Shared(url, engine, factory, world)
    engine.dispose()


def _proposal(shared: Shared, action: str = "approve_purchase_order") -> tuple[str, int]:
    """A committed proposal by the buyer for a fresh order: (token, order id)."""
    with session_scope(shared.factory) as session:
        order = shared.world.po(session, "500")
        row = service.propose(
            session,
            shared.world.shop.buyer,
            service.handler_of(action),
            {"document_ref": order.number},
            now=NOW,
            settings=SETTINGS,
        )
        return row.token, order.id


def _race(shared: Shared, calls: list[tuple[str, RequestContext, str]]) -> list[tuple[str, Any]]:
    """Run each (verb, caller, token) in its own session and thread, released together."""
    barrier = threading.Barrier(len(calls))

    def one(verb: str, ctx: RequestContext, token: str) -> tuple[str, Any]:
        session = shared.factory()
        try:
            barrier.wait(timeout=60)
            begin_for_writing(session)  # as a write request does (BEGIN IMMEDIATE on SQLite)
            if verb == "confirm":
                done = service.confirm(session, ctx, token, now=NOW, settings=SETTINGS)
                result: tuple[str, Any] = (done.action.status, done.action.result)
            else:
                result = (service.cancel(session, ctx, token, now=NOW).status, None)
            session.commit()
            return result
        except service.ExecutionFailed as exc:
            session.commit()  # as the endpoint does: the failed state is kept
            return exc.code, exc.details
        except CompanionError as exc:
            session.rollback()
            return exc.code, exc.details
        finally:
            session.close()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        futures = [pool.submit(one, *call) for call in calls]
        return [f.result(timeout=120) for f in futures]


def _executed_entries(shared: Shared, token: str) -> int:
    with shared.factory() as session:
        stmt = (
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "ai.action.executed", AuditEntry.entity_id == token)
        )
        return int(session.execute(stmt).scalar_one())


def _decisions(shared: Shared, order_id: int) -> list[str]:
    with shared.factory() as session:
        stmt = select(ApprovalTask.status).where(ApprovalTask.order_id == order_id)
        return list(session.execute(stmt).scalars())


def test_concurrent_confirms_execute_once_and_the_others_get_the_first_result(
    shared: Shared,
) -> None:
    token, order_id = _proposal(shared)
    buyer = shared.world.shop.buyer
    results = _race(shared, [("confirm", buyer, token)] * RACERS)
    winners = [r for r in results if r[0] == "executed"]
    losers = [r for r in results if r[0] != "executed"]
    assert len(winners) == 1, results
    assert len(losers) == RACERS - 1
    for code, details in losers:
        assert code == "already_decided"
        assert details["status"] == "executed"
        assert details["result"] == winners[0][1]
    assert _executed_entries(shared, token) == 1
    assert _decisions(shared, order_id) == ["approved"]
    with shared.factory() as session:
        assert session.get(PurchaseOrder, order_id).status == "approved"  # type: ignore[union-attr]
        assert verify(session).ok


def test_confirm_racing_cancel_ends_in_exactly_one_of_them(shared: Shared) -> None:
    token, order_id = _proposal(shared)
    buyer = shared.world.shop.buyer
    results = _race(shared, [("confirm", buyer, token), ("cancel", buyer, token)] * 3)
    finals = {r[0] for r in results if r[0] in ("executed", "cancelled")}
    assert len([r for r in results if r[0] in ("executed", "cancelled")]) == 1, results
    assert all(r[0] == "already_decided" for r in results if r[0] not in finals)
    with shared.factory() as session:
        status = session.get(PurchaseOrder, order_id).status  # type: ignore[union-attr]
    assert status == ("approved" if finals == {"executed"} else "pending_approval")
    assert _executed_entries(shared, token) == (1 if finals == {"executed"} else 0)


def test_concurrent_second_approvals_execute_once(shared: Shared) -> None:
    token, order_id = _proposal(shared, "reject_purchase_order")
    world = shared.world
    first = _race(shared, [("confirm", world.shop.buyer, token)])
    assert first[0][0] == "awaiting_second_approval"
    results = _race(
        shared,
        [("confirm", world.buyer2, token), ("confirm", world.shop.admin, token)] * 2
        + [("confirm", world.shop.buyer, token)],
    )
    codes = sorted(r[0] for r in results)
    assert codes.count("executed") == 1, results
    # The first approver is refused (or finds it done), the admin holds no procurement
    # role so the ERP refuses that level to them; nobody executes twice.
    assert set(codes) <= {
        "executed",
        "already_decided",
        "second_approver_required",
        "permission_denied",
    }
    assert _executed_entries(shared, token) == 1
    assert _decisions(shared, order_id) == ["rejected"]


def test_a_pending_confirmation_survives_a_restart(shared: Shared) -> None:
    token, order_id = _proposal(shared)
    # A new process: a new engine and session factory; only the database remembers.
    engine = make_engine(shared.url)
    try:
        factory = make_session_factory(engine)
        with session_scope(factory) as session:
            seen = service.visible(session, shared.world.shop.buyer, token)
            assert seen.status == "pending" and seen.expires_at > NOW
            done = service.confirm(
                session, shared.world.shop.buyer, token, now=NOW, settings=SETTINGS
            )
            assert done.action.status == "executed"
        with session_scope(factory) as session:
            assert session.get(PurchaseOrder, order_id).status == "approved"  # type: ignore[union-attr]
            with pytest.raises(service.AlreadyDecided):
                service.confirm(session, shared.world.shop.buyer, token, now=NOW, settings=SETTINGS)
    finally:
        engine.dispose()


def test_a_confirm_arriving_mid_execution_waits_and_gets_the_first_result(
    shared: Shared,
) -> None:
    token, order_id = _proposal(shared)
    buyer = shared.world.shop.buyer
    first = shared.factory()
    begin_for_writing(first)
    done = service.confirm(first, buyer, token, now=NOW, settings=SETTINGS)
    assert done.action.status == "executed"  # executed, holding its locks, not committed
    started = threading.Event()

    def second() -> tuple[str, Any]:
        started.set()
        return _race(shared, [("confirm", buyer, token)])[0]

    with ThreadPoolExecutor(max_workers=1) as pool:
        future = pool.submit(second)
        started.wait(10)
        time.sleep(0.5)
        assert not future.done()  # it waits for the first transaction
        first.commit()
        first.close()
        code, details = future.result(timeout=60)
    assert code == "already_decided"
    assert details["status"] == "executed" and details["result"] == done.action.result
    assert _executed_entries(shared, token) == 1
    assert _decisions(shared, order_id) == ["approved"]


def test_the_background_sweeper_expires_unanswered_confirmations(shared: Shared) -> None:
    from companion.assistant.actions import repository
    from companion.assistant.actions.sweep import Sweeper
    from companion.kit.clock import FixedClock

    def status_of(token: str) -> str:
        with session_scope(shared.factory) as session:
            row = repository.get_action(session, shared.world.shop.buyer, token)
            assert row is not None
            return str(row.status)

    token, _ = _proposal(shared)
    clock = FixedClock(NOW)  # the proposal expires at NOW + 5 minutes
    sweeper = Sweeper(shared.factory, clock, interval=0.05)
    sweeper.start()
    try:
        time.sleep(0.3)
        assert status_of(token) == "pending"
        clock.advance(dt.timedelta(minutes=6))
        deadline = time.monotonic() + 10
        status = "pending"
        while status == "pending" and time.monotonic() < deadline:
            time.sleep(0.05)
            status = status_of(token)
        assert status == "expired"
    finally:
        sweeper.stop()
    assert sweeper.sweep_once() == 0  # nothing left to expire
