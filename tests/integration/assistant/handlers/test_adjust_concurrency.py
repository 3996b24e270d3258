"""Stock adjustments in chat while others adjust the same level (issue 18 part 3).

On a database of its own (committed data, several connections), on SQLite and PostgreSQL:
a proposal's preview reads the level as committed instead of waiting for an adjustment being
written; a "yes" builds its turn's context before its action runs, so (on PostgreSQL) the
level is not locked while it does; and an adjustment committed in that moment is checked
under the lock: the level never goes below zero, the action fails and changes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
from handler_world import TODAY, World, build_world, handler, say
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from companion.assistant import context as turn_context
from companion.assistant.actions.handlers.support import voucher_preview
from companion.assistant.actions.models import AiAction
from companion.assistant.learning import telemetry as learning_telemetry
from companion.assistant.nlu.entities import extract_entities
from companion.assistant.schemas import ChatRequest, ChatResponse
from companion.assistant.service import Assistant
from companion.assistant.understanding import load_master
from companion.audit.service import verify
from companion.erp.ledger import repository as ledger_repo
from companion.erp.stock import repository as stock_repo
from companion.erp.stock.models import StockMove
from companion.erp.stock.service import adjust_stock
from companion.kit import migrate
from companion.kit.clock import FixedClock
from companion.kit.db import make_engine, make_session_factory, session_scope
from companion.tenancy.context import RequestContext
from dbutil import audit_head_locked, new_database_url

ADJ = "adjust_inventory"
NOW = dt.datetime(2026, 3, 16, 10, 0, tzinfo=dt.UTC)


@dataclass
class Understood:
    intent: str
    confidence: float = 0.99
    entities: dict[str, Any] = field(default_factory=dict)


class AdjustingNLU:
    """ "yes" confirms; anything else asks for a stock adjustment, with the real extractors."""

    def understand(self, session: Session, ctx: RequestContext, text: str, today: Any) -> Any:
        if text == "yes":
            return Understood("confirm")
        master = load_master(session, ctx)
        return Understood(ADJ, entities=extract_entities(text, today=today, master=master).entities)

    def master(self, session: Session, ctx: RequestContext) -> Any:
        return load_master(session, ctx)


@dataclass
class Shared:
    url: str
    engine: Engine
    factory: sessionmaker[Session]
    world: World
    assistant: Assistant


@pytest.fixture(scope="module")
def shared(
    backend: str, tmp_path_factory: pytest.TempPathFactory, pg_database_factory: list[str]
) -> Iterator[Shared]:
    url = new_database_url(backend, tmp_path_factory.mktemp("adjust-race"), pg_database_factory)
    engine = make_engine(url)
    migrate.upgrade(engine)
    factory = make_session_factory(engine)
    with session_scope(factory) as session:
        world = build_world(session)
    yield Shared(url, engine, factory, world, Assistant(AdjustingNLU(), FixedClock(NOW)))
    engine.dispose()


def _on_hand(shared: Shared) -> Decimal:
    w = shared.world
    with shared.factory() as session:
        return stock_repo.on_hand(session, w.storekeeper, w.rod.id, w.dhaka.id)


def _adjust(shared: Shared, session: Session, delta: str) -> None:
    w = shared.world
    adjust_stock(
        session,
        w.storekeeper,
        item_id=w.rod.id,
        warehouse_id=w.dhaka.id,
        quantity_delta=Decimal(delta),
        reason="count",
        on=TODAY,
    )


def _turn(shared: Shared, message: str, conversation: str | None = None) -> ChatResponse:
    """One turn in a session of its own, committed as the web layer commits it."""
    with session_scope(shared.factory) as session:
        request = ChatRequest(message=message, conversation_id=conversation)
        return shared.assistant.turn(session, shared.world.storekeeper, request)


@pytest.fixture
def while_context_is_built() -> Iterator[Callable[[Callable[[Session], None]], None]]:
    """Run a callback with the turn's session while a turn builds its context (once)."""
    calls: list[Callable[[Session], None]] = []

    def source(session: Session, ctx: RequestContext) -> list[dict[str, Any]]:
        while calls:
            calls.pop(0)(session)
        return []

    turn_context.register_alert_source(source)
    try:
        yield calls.append
    finally:
        turn_context.unregister_alert_source(source)


def _level_locked(shared: Shared) -> bool:
    """Whether another transaction holds the rod's Dhaka level (PostgreSQL, NOWAIT)."""
    w = shared.world
    with shared.engine.connect() as conn:
        try:
            conn.execute(
                text(
                    "SELECT quantity FROM stock_levels WHERE item_id = :i AND warehouse_id = :w"
                    " FOR UPDATE NOWAIT"
                ),
                {"i": w.rod.id, "w": w.dhaka.id},
            )
        except OperationalError:
            return True
        finally:
            conn.rollback()
    return False


def test_a_proposal_reads_the_level_while_another_adjustment_is_written(shared: Shared) -> None:
    w = shared.world
    before = _on_hand(shared)
    writer = shared.factory()
    try:
        _adjust(shared, writer, "5")  # written, locked, not committed
        # A reader that would fail rather than wait: PostgreSQL's lock_timeout, SQLite's busy
        # timeout (the dry run this replaces wrote, so it needed the write lock).
        reader_engine = make_engine(shared.url, busy_timeout_s=1.0)
        try:
            with make_session_factory(reader_engine)() as reader:
                if reader_engine.dialect.name == "postgresql":
                    reader.execute(text("SET lock_timeout = '2s'"))
                params = say(
                    reader,
                    w.storekeeper,
                    ADJ,
                    "add 2 Steel Rod to Dhaka Central Warehouse, found in count",
                )
                proposal = handler(ADJ).propose(reader, w.storekeeper, params)
        finally:
            reader_engine.dispose()
    finally:
        writer.rollback()
        writer.close()
    assert proposal.preview["balances"][0]["before"] == str(before)
    assert proposal.preview["balances"][0]["after"] == str(before + 2)
    assert _on_hand(shared) == before


@pytest.mark.parametrize("sentence", ["add 3 Steel Rod to", "remove 4 Steel Rod from"])
def test_the_read_preview_is_what_the_adjustment_posts(shared: Shared, sentence: str) -> None:
    w = shared.world
    h = handler(ADJ)
    with shared.factory() as session:
        params = say(session, w.storekeeper, ADJ, f"{sentence} Dhaka Central Warehouse, damaged")
        proposal = h.propose(session, w.storekeeper, params)
        outcome = h.execute(session, w.storekeeper.as_ai(), proposal.params)
        move = session.get(StockMove, outcome.result["stock_move_id"])
        assert move is not None
        vouchers, _ = ledger_repo.list_vouchers(
            session, w.storekeeper, source_type="stock_move", source_id=move.id
        )
        preview = proposal.preview["stock_moves"][0]
        assert preview["on_hand_after"] == outcome.result["on_hand"]
        assert {k: preview[k] for k in ("move_type", "quantity", "unit_cost")} == {
            "move_type": move.move_type,
            "quantity": str(move.quantity),
            "unit_cost": str(move.unit_cost),
        }
        assert proposal.preview["journal"] == voucher_preview(
            session, w.storekeeper, vouchers[0].id
        )
        session.rollback()


def test_a_yes_builds_its_context_before_the_action_runs(
    shared: Shared, while_context_is_built: Callable[[Callable[[Session], None]], None]
) -> None:
    w = shared.world
    before = _on_hand(shared)
    proposed = _turn(shared, "add 2 Steel Rod to Dhaka Central Warehouse, found in count")
    assert proposed.pending_confirmation is not None
    seen: list[tuple[Decimal, bool]] = []

    def look(session: Session) -> None:
        on_hand = stock_repo.on_hand(session, w.storekeeper, w.rod.id, w.dhaka.id)
        locked = shared.engine.dialect.name == "postgresql" and _level_locked(shared)
        seen.append((on_hand, locked))

    while_context_is_built(look)
    done = _turn(shared, "yes", proposed.conversation_id)
    # The turn's own session had not adjusted yet, and nobody held the level.
    assert seen == [(before, False)]
    assert done.message.startswith("Adjusted Steel Rod by +2")
    assert done.context.pending == []
    assert _on_hand(shared) == before + 2
    with shared.factory() as session:
        assert verify(session).ok


# PostgreSQL only: on SQLite the turn holds the database's write lock from its claim, so no
# other writer can commit between the claim and the action.
@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_an_adjustment_committed_meanwhile_is_checked_under_the_lock(
    shared: Shared,
    while_context_is_built: Callable[[Callable[[Session], None]], None],
    backend: str,
) -> None:
    before = _on_hand(shared)
    proposed = _turn(
        shared, f"remove {before - 10} Steel Rod from Dhaka Central Warehouse, damaged"
    )
    assert proposed.pending_confirmation is not None

    def another_storekeeper(session: Session) -> None:
        # Between the claim and the action: the level is free, so this commits at once.
        with session_scope(shared.factory) as other:
            other.execute(text("SET LOCAL lock_timeout = '2s'"))
            _adjust(shared, other, "-20")

    while_context_is_built(another_storekeeper)
    done = _turn(shared, "yes", proposed.conversation_id)
    assert done.message.startswith("I couldn't do it: Not enough SR-10 in DHK")
    assert _on_hand(shared) == before - 20  # the other one only; never below zero
    token = proposed.pending_confirmation.token
    with shared.factory() as session:
        row = session.query(AiAction).filter_by(token=token).one()
        assert row.status == "failed"
        assert verify(session).ok


def _head_locked(shared: Shared) -> bool:
    """Whether another transaction holds the company's audit head (PostgreSQL, NOWAIT)."""
    return audit_head_locked(shared.engine, f"company:{shared.world.storekeeper.company_id}")


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_a_yes_locks_the_audit_head_only_after_everything_else(
    shared: Shared, monkeypatch: pytest.MonkeyPatch, backend: str
) -> None:
    """The action has run (its level is locked) and the turn records itself: the company's
    audit head is still free; its entries are chained last, and the chain is whole."""
    before = _on_hand(shared)
    proposed = _turn(shared, "add 1 Steel Rod to Dhaka Central Warehouse, found in count")
    assert proposed.pending_confirmation is not None
    seen: list[tuple[bool, bool]] = []
    record_turn = learning_telemetry.record_turn

    def recording(session: Session, *args: Any, **kwargs: Any) -> None:
        seen.append((_level_locked(shared), _head_locked(shared)))
        record_turn(session, *args, **kwargs)

    monkeypatch.setattr(learning_telemetry, "record_turn", recording)
    done = _turn(shared, "yes", proposed.conversation_id)
    assert done.message.startswith("Adjusted Steel Rod by +1")
    assert seen == [(True, False)]
    assert _on_hand(shared) == before + 1
    with shared.factory() as session:
        assert verify(session).ok
