"""The background sweep: open confirmations whose time is up become ``expired``."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from companion.assistant.actions import repository as repo


def expire_pending(session: Session, now: dt.datetime) -> int:
    """Mark every pending or awaiting confirmation past its expiry as expired; the count."""
    return repo.expire_open(session, now)
