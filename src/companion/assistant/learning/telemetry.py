"""Telemetry events stored per company, PII-redacted, kept for the retention period.

``store`` is the sink installed on ``kit.telemetry`` (by ``install``): every string in an
event's data passes through ``governance.pii.redact`` before it is written. ``purge`` is the
retention job; ``trail`` is one user's events for a privacy review.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from companion.assistant.learning import repository as repo
from companion.assistant.learning.models import TelemetryEvent
from companion.assistant.learning.schemas import EventOut
from companion.errors import PermissionDenied
from companion.governance.pii import redact
from companion.kit import telemetry
from companion.kit.clock import Clock
from companion.kit.db import utcnow
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
    """The sink: one redacted row in the caller's unit of work."""
    session.add(
        TelemetryEvent(
            company_id=event.company_id,
            user_id=event.user_id,
            kind=event.kind,
            at=event.at or utcnow(),
            duration_ms=event.duration_ms,
            message_id=event.message_id,
            data=scrub(event.data),
        )
    )


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
