"""Telemetry ports any layer may use: persisted events and in-process tallies.

``emit(session, kind, ...)`` hands an event to the installed sinks, inside the caller's unit
of work (it commits or rolls back with the work it describes). The learning loop installs
the sink that redacts and stores it (``assistant.learning.telemetry``); with none installed
an event is dropped. Alerts and imports, on floors below the assistant, call ``emit`` with
the kinds named here.

``tally(name, **labels)`` counts something in this process (a model call, a cache hit, a
job run) for ``/metrics``; ``tallies()`` is the snapshot the metrics collector reads.
``observing(observer)`` lets the web app's metrics see the events of the request being
served (a context variable: it follows the request into the worker thread).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

CHAT_TURN = "chat.turn"
SUGGESTION_SHOWN = "suggestion.shown"
SUGGESTION_ACCEPTED = "suggestion.accepted"
FEEDBACK = "feedback"
ACTION_PROPOSED = "action.proposed"
ACTION_CONFIRMED = "action.confirmed"
ACTION_CANCELLED = "action.cancelled"
ACTION_EXPIRED = "action.expired"
ALERT_RAISED = "alert.raised"
ALERT_ACTED = "alert.acted"
IMPORT_STATUS = "import.status"
KINDS = (
    CHAT_TURN,
    SUGGESTION_SHOWN,
    SUGGESTION_ACCEPTED,
    FEEDBACK,
    ACTION_PROPOSED,
    ACTION_CONFIRMED,
    ACTION_CANCELLED,
    ACTION_EXPIRED,
    ALERT_RAISED,
    ALERT_ACTED,
    IMPORT_STATUS,
)


@dataclass(frozen=True)
class Event:
    """One thing that happened in a company; ``data`` is plain JSON (redacted by the sink)."""

    kind: str
    company_id: int
    user_id: int | None = None
    data: dict[str, Any] = field(default_factory=dict)
    duration_ms: float | None = None
    message_id: str | None = None
    at: dt.datetime | None = None


Sink = Callable[[Session, Event], None]
Observer = Callable[[Event], None]
_sinks: list[Sink] = []
_sinks_lock = threading.Lock()
_observer: ContextVar[Observer | None] = ContextVar("companion_telemetry_observer", default=None)


@contextmanager
def observing(observer: Observer) -> Iterator[None]:
    """Within this block (and the threads it starts work in), events also go to ``observer``."""
    token = _observer.set(observer)
    try:
        yield
    finally:
        _observer.reset(token)


def install(sink: Sink) -> None:
    """Send every later event to ``sink`` too (installing the same sink twice is one sink)."""
    with _sinks_lock:
        if sink not in _sinks:
            _sinks.append(sink)


def emit(
    session: Session,
    kind: str,
    *,
    company_id: int,
    user_id: int | None = None,
    data: dict[str, Any] | None = None,
    duration_ms: float | None = None,
    message_id: str | None = None,
) -> None:
    """Record an event in the caller's unit of work (dropped when no sink is installed)."""
    event = Event(kind, company_id, user_id, dict(data or {}), duration_ms, message_id)
    with _sinks_lock:
        sinks = list(_sinks)
    for sink in sinks:
        sink(session, event)
    tally("events", kind=kind)
    observer = _observer.get()
    if observer is not None:
        observer(event)


_tallies: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
_tallies_lock = threading.Lock()


def tally(name: str, amount: float = 1.0, **labels: str) -> None:
    """Add ``amount`` to the process-wide counter ``name`` with these labels."""
    key = (name, tuple(sorted(labels.items())))
    with _tallies_lock:
        _tallies[key] = _tallies.get(key, 0.0) + amount


def tallies() -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """A copy of every counter: (name, sorted labels) -> value."""
    with _tallies_lock:
        return dict(_tallies)
