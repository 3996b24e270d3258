"""Carrying on while a shared store (Redis) is unreachable: its fallback, then a retry.

Rate limits fall back to counting in this process, budget counters to the database, so a
request is never failed or held because Redis is down. A failure to reach the store
switches to the fallback for ``retry_s`` seconds (no connection attempt per request
meanwhile) with one warning in the log; the first success after that switches back.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")
log = logging.getLogger(__name__)

# A request waits at most this long for a Redis that does not answer (not the OS default).
CONNECT_TIMEOUT_S = 1.0
SOCKET_TIMEOUT_S = 2.0
RETRY_S = 30.0


def redis_options(url: str) -> dict[str, float]:
    """Short connect and read timeouts for a ``redis://`` (or ``rediss://``) URL."""
    if url.split(":", 1)[0] in ("redis", "rediss"):
        return {"socket_connect_timeout": CONNECT_TIMEOUT_S, "socket_timeout": SOCKET_TIMEOUT_S}
    return {}


def unreachable_errors() -> tuple[type[BaseException], ...]:
    """What a store that cannot be reached raises (not what a bad command raises)."""
    try:
        import redis
    except ImportError:  # pragma: no cover - only without the scale extra
        return (OSError,)
    return (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError)


class Fallback:
    """Call the primary store; while it is unreachable, the fallback."""

    def __init__(
        self,
        what: str,
        *,
        retry_s: float = RETRY_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.what = what
        self.retry_s = retry_s
        self._clock = clock
        self._errors = unreachable_errors()
        self._lock = threading.Lock()
        self._down_until = 0.0
        self._failing = False

    @property
    def down(self) -> bool:
        """Whether the primary failed within the last ``retry_s`` seconds."""
        return self._clock() < self._down_until

    def call(self, primary: Callable[[], T], fallback: Callable[[], T]) -> T:
        """``primary()``, or ``fallback()`` when it is (or was just) unreachable."""
        if self.down:
            return fallback()
        try:
            result = primary()
        except self._errors as exc:
            with self._lock:
                self._down_until = self._clock() + self.retry_s
                first, self._failing = not self._failing, True
            if first:
                log.warning(
                    "%s unreachable, using the fallback (retried every %.0f s): %s",
                    self.what,
                    self.retry_s,
                    exc,
                )
            return fallback()
        if self._failing:
            with self._lock:
                self._failing = False
            log.warning("%s reachable again", self.what)
        return result
