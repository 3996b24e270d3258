"""A transaction's telemetry events: written together, seen by its own reads, rolled back
with it (the queue of ``assistant.learning.telemetry``), on both databases."""

from __future__ import annotations

import datetime as dt
from contextlib import AbstractContextManager
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from companion.assistant.learning import repository as repo
from companion.assistant.learning.models import TelemetryEvent
from companion.assistant.learning.telemetry import record_turn
from companion.kit import telemetry
from companion.tenancy.context import RequestContext
from companion.tenancy.models import Company
from factories import make_company, make_context
from statements import statements_sent

FUTURE = dt.datetime(2999, 1, 1, tzinfo=dt.UTC)


def _event_inserts(session: Session) -> AbstractContextManager[list[str]]:
    """The INSERTs into telemetry_events run inside the block."""
    return statements_sent(session, lambda sql: sql.startswith("INSERT INTO telemetry_events"))


def _emit(session: Session, ctx: RequestContext, kind: str, **data: Any) -> None:
    telemetry.emit(session, kind, company_id=ctx.company_id, user_id=ctx.user_id, data=data)


def _stored(session: Session, company: Company) -> list[tuple[str, dict[str, Any]]]:
    rows = session.execute(
        select(TelemetryEvent)
        .where(TelemetryEvent.company_id == company.id)
        .order_by(TelemetryEvent.id)
    ).scalars()
    return [(r.kind, r.data) for r in rows]


def test_a_turns_events_are_one_insert_redacted_in_their_order(session: Session) -> None:
    company = make_company(session, "acme")
    ctx = make_context(session, company, ["sales"], username="acme-sales")
    with _event_inserts(session) as inserts:
        _emit(session, ctx, telemetry.ACTION_CONFIRMED, action="adjust", note="mail a@b.com")
        # Statements of the turn in between write no event yet (flushes included).
        session.execute(select(Company.id).where(Company.id == company.id))
        session.flush()
        assert inserts == []
        record_turn(
            session,
            ctx,
            message_id="m1",
            text="yes, a@b.com",
            intent="confirm",
            confidence=0.9,
            skill="actions",
            latency_ms=12.5,
            fallback=False,
            suggestions=2,
            accepted=False,
        )
        session.flush()
    assert len(inserts) == 1
    events = _stored(session, company)
    assert [kind for kind, _ in events] == [
        telemetry.ACTION_CONFIRMED,
        telemetry.CHAT_TURN,
        telemetry.SUGGESTION_SHOWN,
    ]
    assert events[0][1] == {"action": "adjust", "note": "mail <EMAIL_1>"}
    assert events[1][1]["text"] == "yes, <EMAIL_1>"


def test_events_are_written_at_the_commit(session: Session) -> None:
    company = make_company(session, "acme")
    ctx = make_context(session, company, ["sales"], username="acme-sales")
    with _event_inserts(session) as inserts:
        _emit(session, ctx, telemetry.FEEDBACK, score=1)
        _emit(session, ctx, telemetry.FEEDBACK, score=2)
        session.flush()
        assert inserts == []
        session.commit()
    assert len(inserts) == 1
    assert [data["score"] for _, data in _stored(session, company)] == [1, 2]


def test_a_transaction_reads_and_purges_its_own_events(session: Session) -> None:
    company = make_company(session, "acme")
    ctx = make_context(session, company, ["sales"], username="acme-sales")
    _emit(session, ctx, telemetry.FEEDBACK)
    assert repo.count_events(session, ctx, telemetry.FEEDBACK) == 1  # a count reads it
    _emit(session, ctx, telemetry.FEEDBACK)
    rows, total = repo.events_of_user(session, ctx, ctx.user_id, limit=10, offset=0)
    assert total == 2 and len(rows) == 2  # a count over a subquery as well
    _emit(session, ctx, telemetry.FEEDBACK)
    # A purge in the same transaction removes the queued event too: none comes back later.
    assert repo.purge_company_events_before(session, company.id, FUTURE) == 3
    session.commit()
    assert _stored(session, company) == []


def test_events_of_a_rolled_back_savepoint_or_transaction_are_dropped(session: Session) -> None:
    company = make_company(session, "acme")
    ctx = make_context(session, company, ["sales"], username="acme-sales")
    session.commit()
    _emit(session, ctx, telemetry.FEEDBACK, n=1)
    savepoint = session.begin_nested()
    _emit(session, ctx, telemetry.FEEDBACK, n=2)
    inner = session.begin_nested()
    _emit(session, ctx, telemetry.FEEDBACK, n=3)
    inner.commit()  # released: its event now goes with the outer savepoint
    savepoint.rollback()
    kept = session.begin_nested()
    _emit(session, ctx, telemetry.FEEDBACK, n=4)
    kept.commit()
    session.commit()
    assert [data["n"] for _, data in _stored(session, company)] == [1, 4]
    _emit(session, ctx, telemetry.FEEDBACK, n=5)
    session.rollback()
    session.commit()
    assert [data["n"] for _, data in _stored(session, company)] == [1, 4]
