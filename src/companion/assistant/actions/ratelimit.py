"""Proposals per user per minute, counted from the stored proposals themselves."""

from __future__ import annotations

import datetime as dt
import math

from sqlalchemy.orm import Session

from companion.assistant.actions import repository as repo
from companion.errors import RateLimited
from companion.tenancy.context import RequestContext

WINDOW = dt.timedelta(minutes=1)


def check(session: Session, ctx: RequestContext, now: dt.datetime, per_minute: int) -> None:
    """Raise ``RateLimited`` (with ``retry_after`` seconds) when the caller is at the limit."""
    recent = repo.recent_proposals(session, ctx, now - WINDOW)
    if len(recent) < per_minute:
        return
    # The window frees a slot when the oldest proposal that counts leaves it.
    oldest = recent[len(recent) - per_minute]
    retry_after = max(1, math.ceil((oldest + WINDOW - now).total_seconds()))
    raise RateLimited(
        f"You have proposed {len(recent)} actions in the last minute (the limit is "
        f"{per_minute}); please wait {retry_after} seconds and try again.",
        details={"limit": per_minute, "window_seconds": 60, "retry_after": retry_after},
    )
