"""Telemetry events stored per company, PII-redacted, kept for the retention period.

``store`` is the sink installed on ``kit.telemetry`` (by ``install``): every string in an
event's data passes through ``governance.pii.redact`` before it is written. ``purge`` is the
retention job; ``trail`` is one user's events for a privacy review.

A transaction's events are written together, in one INSERT: ``store`` queues the redacted
row, and the queue is inserted when a chat turn has recorded its own events
(``record_turn``), when the transaction commits, or before a statement that reads or
deletes events runs in it (so the transaction sees its own events, and a purge removes
them). Rows queued in a savepoint that rolls back are dropped with it, as rows added there
would be.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from sqlalchemy import Table, event, insert
from sqlalchemy.orm import ORMExecuteState, Session
from sqlalchemy.sql.elements import ClauseElement
from sqlalchemy.sql.util import find_tables

from companion.assistant.learning import repository as repo
from companion.assistant.learning.models import TelemetryEvent
from companion.assistant.learning.schemas import EventOut
from companion.errors import PermissionDenied
from companion.governance.pii import redact
from companion.kit import telemetry
from companion.kit.clock import Clock
from companion.kit.db import TransactionQueue, utcnow
from companion.tenancy.context import RequestContext
from companion.tenancy.models import Company

# A message kept in an event is cut here: the trail shows what was asked, not a whole paste.
MAX_TEXT = 500


def scrub(value: Any) -> Any:
    """``value`` with PII in every string replaced by typed placeholders."""
    if isinstance(value, str):
        return redact(value[:MAX_TEXT]).text
    if isinstance(value, dict):
        return {str(k): scrub(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [scrub(v) for v in value]
    return value


def store(session: Session, event: telemetry.Event) -> None:
    """The sink: one redacted row in the caller's unit of work (queued; see the module)."""
    row = {
        "company_id": event.company_id,
        "user_id": event.user_id,
        "kind": event.kind,
        "at": event.at or utcnow(),
        "duration_ms": event.duration_ms,
        "message_id": event.message_id,
        "data": scrub(event.data),
    }
    _QUEUE.put(session, row)


_TABLE = cast(Table, TelemetryEvent.__table__)


def _insert(session: Session, rows: list[dict[str, Any]]) -> None:
    # Every row has the same columns, so they go as the parameters of one cached statement:
    # one multi-row INSERT on PostgreSQL, one executemany on SQLite.
    session.execute(insert(_TABLE), rows)


# Rows queued in a savepoint that rolls back are dropped; the rest are written at the
# outermost commit if nothing wrote them sooner.
_QUEUE: TransactionQueue[dict[str, Any]] = TransactionQueue(
    "companion.learning.telemetry.queue", _insert
)


def write_queued(session: Session) -> None:
    """Insert the queued rows now, in one statement."""
    _QUEUE.flush(session)


@event.listens_for(Session, "do_orm_execute")
def _write_before_reading_events(state: ORMExecuteState) -> None:
    """A statement over the events sees (or deletes) the transaction's own: they are
    written before it runs."""
    if not _QUEUE.pending(state.session) or not isinstance(state.statement, ClauseElement):
        return
    # By name: an ORM statement's tables are annotated copies of the table.
    tables = find_tables(state.statement, include_crud=True)
    if any(table.name == _TABLE.name for table in tables):
        write_queued(state.session)


def install() -> None:
    """Store every event emitted through ``kit.telemetry`` from now on."""
    telemetry.install(store)


def purge(session: Session, *, now: dt.datetime, retention_days: int) -> int:
    """Delete events older than the retention period (every company); how many went."""
    return repo.purge_events_before(session, now - dt.timedelta(days=retention_days))


def purge_company(session: Session, company: Company, clock: Clock, *, container: Any) -> Any:
    """The periodic ``learning.purge`` run: one company's events past the retention period."""
    days = int(container.settings.learning.telemetry_retention_days)
    cutoff = clock.now() - dt.timedelta(days=days)
    return {"deleted": repo.purge_company_events_before(session, company.id, cutoff), "days": days}


def trail(
    session: Session, ctx: RequestContext, user_id: int, *, limit: int, offset: int
) -> tuple[list[EventOut], int]:
    """One user's events in the caller's company: their own, or anyone's for ``ai.admin``."""
    if user_id != ctx.user_id and not ctx.can("ai.admin"):
        raise PermissionDenied(
            "Only administrators may read another user's trail",
            details={"permission": "ai.admin"},
        )
    rows, total = repo.events_of_user(session, ctx, user_id, limit=limit, offset=offset)
    return [
        EventOut(
            id=r.id,
            kind=r.kind,
            at=r.at,
            user_id=r.user_id,
            duration_ms=r.duration_ms,
            message_id=r.message_id,
            data=r.data,
        )
        for r in rows
    ], total


def record_turn(
    session: Session,
    ctx: RequestContext,
    *,
    message_id: str,
    text: str,
    intent: str,
    confidence: float,
    skill: str,
    latency_ms: float,
    fallback: bool,
    suggestions: int,
    accepted: bool,
) -> None:
    """The events of one chat turn: the turn itself, suggestions shown and one accepted."""
    events: list[tuple[str, dict[str, Any], float | None]] = [
        (
            telemetry.CHAT_TURN,
            {
                "text": text,
                "intent": intent,
                "confidence": round(float(confidence), 4),
                "skill": skill,
                "fallback": fallback,
                "via_api_key": ctx.api_key_id is not None,
            },
            latency_ms,
        )
    ]
    if accepted:
        events.append((telemetry.SUGGESTION_ACCEPTED, {"intent": intent}, None))
    if suggestions:
        events.append((telemetry.SUGGESTION_SHOWN, {"count": suggestions}, None))
    for kind, data, duration in events:
        telemetry.emit(
            session,
            kind,
            company_id=ctx.company_id,
            user_id=ctx.user_id,
            message_id=message_id,
            duration_ms=duration,
            data=data,
        )
    # The turn's events are all emitted (an action's among them): one INSERT writes them.
    write_queued(session)
