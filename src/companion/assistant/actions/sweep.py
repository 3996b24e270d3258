"""The background sweep: open confirmations whose time is up become ``expired``.

``expire_pending`` is one pass (``companion actions sweep`` runs it once); ``Sweeper`` runs it
every few seconds on a daemon thread of the server process, started and stopped with the app.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading

from sqlalchemy.orm import Session, sessionmaker

from companion.assistant.actions import repository as repo
from companion.kit import telemetry
from companion.kit.clock import Clock
from companion.kit.db import begin_for_writing, session_scope

log = logging.getLogger(__name__)


def expire_pending(session: Session, now: dt.datetime) -> int:
    """Mark every pending or awaiting confirmation past its expiry as expired; the count."""
    expired = repo.expire_open(session, now)
    for company_id, user_id, token, action in expired:
        telemetry.emit(
            session,
            telemetry.ACTION_EXPIRED,
            company_id=company_id,
            user_id=user_id,
            data={"action": action, "token": token},
        )
    return len(expired)


class Sweeper:
    """Runs ``expire_pending`` every ``interval`` seconds until stopped."""

    def __init__(
        self, session_factory: sessionmaker[Session], clock: Clock, interval: float
    ) -> None:
        self._factory = session_factory
        self._clock = clock
        self._interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def sweep_once(self) -> int:
        """One pass in its own unit of work; the number of confirmations expired."""
        with session_scope(self._factory) as session:
            begin_for_writing(session)
            return expire_pending(session, self._clock.now())

    def start(self) -> None:
        """Start the thread (once)."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._run, name="companion-action-sweep", daemon=True
            )
            self._thread.start()

    def stop(self) -> None:
        """Stop the thread and wait for a pass in progress to finish."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                count = self.sweep_once()
            except Exception:  # a thread boundary: log it and try again next time
                log.exception("the action expiry sweep failed")
                continue
            if count:
                log.info("expired %d unanswered action confirmation(s)", count)
