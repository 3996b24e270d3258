"""Request rate limits: failed sign-ins per username and per address, chat turns per user.

Moving windows from the ``limits`` library, kept in memory (one process) or in Redis
(``COMPANION_RATE_LIMITS__STORAGE_URL=redis://...``, shared by every process). A refusal is
``RateLimited`` (429) with ``retry_after``, which the app also sends as Retry-After. While
the shared storage is unreachable each process counts in its own memory (``fallback``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from functools import partial
from typing import TypeVar

from limits import RateLimitItem, parse
from limits.storage import MemoryStorage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

from companion.config import RateLimitSettings
from companion.errors import RateLimited
from companion.governance.usage.fallback import Fallback, redis_options

T = TypeVar("T")


def _test(limiter: MovingWindowRateLimiter, *, item: RateLimitItem, ids: tuple[str, ...]) -> bool:
    return limiter.test(item, *ids)


class LoginThrottled(RateLimited):
    """Too many failed sign-ins for this username or from this address."""

    code = "login_throttled"


class ChatThrottled(RateLimited):
    """The caller sent more chat messages than the per-user limit allows."""

    code = "chat_rate_limited"


class RateLimiter:
    """The deployment's rate limits, checked before the work they protect."""

    def __init__(self, settings: RateLimitSettings) -> None:
        self.settings = settings
        url = settings.storage_url
        self._limiter = MovingWindowRateLimiter(storage_from_string(url, **redis_options(url)))
        # Shared storage (Redis): this process's own counts while it cannot be reached.
        self._local = (
            None if url.startswith("memory://") else MovingWindowRateLimiter(MemoryStorage())
        )
        self._fallback = Fallback("rate-limit storage")
        self._login_user = parse(settings.login_per_username)
        self._login_ip = parse(settings.login_per_ip)
        self._chat = parse(settings.chat_per_user)

    def _run(self, use: Callable[[MovingWindowRateLimiter], T]) -> T:
        if self._local is None:
            return use(self._limiter)
        local = self._local
        return self._fallback.call(lambda: use(self._limiter), lambda: use(local))

    def _retry_after(self, item: RateLimitItem, *ids: str) -> int:
        stats = self._run(lambda limiter: limiter.get_window_stats(item, *ids))
        return max(1, math.ceil(stats.reset_time - time.time()))

    def check_login(self, username: str, address: str | None) -> None:
        """Refuse a sign-in at once while its username or address is locked out."""
        if not self.settings.enabled:
            return
        for item, ids, who in (
            (self._login_user, ("login-user", username.strip().lower()[:128]), "this account"),
            (self._login_ip, ("login-ip", address or "unknown"), "this address"),
        ):
            if not self._run(partial(_test, item=item, ids=ids)):
                retry_after = self._retry_after(item, *ids)
                raise LoginThrottled(
                    f"Too many failed sign-ins for {who}; try again in {retry_after} seconds",
                    details={"limit": str(item), "retry_after": retry_after},
                )

    def login_failed(self, username: str, address: str | None) -> None:
        """Count one failed sign-in against the username and the address."""
        if not self.settings.enabled:
            return
        user = username.strip().lower()[:128]
        self._run(lambda limiter: limiter.hit(self._login_user, "login-user", user))
        self._run(lambda limiter: limiter.hit(self._login_ip, "login-ip", address or "unknown"))

    def chat_turn(self, user_id: int, *, count: bool = True) -> None:
        """Count one chat turn of ``user_id`` (``count=False`` only checks), or refuse it."""
        if not self.settings.enabled:
            return
        ids = ("chat", str(user_id))
        use = MovingWindowRateLimiter.hit if count else MovingWindowRateLimiter.test
        allowed = self._run(lambda limiter: use(limiter, self._chat, *ids))
        if not allowed:
            retry_after = self._retry_after(self._chat, *ids)
            raise ChatThrottled(
                f"You have sent too many messages (the limit is {self._chat}); "
                f"try again in {retry_after} seconds",
                details={"limit": str(self._chat), "retry_after": retry_after},
            )

    def reset(self) -> None:
        """Forget every count (tests, and an operator lifting a lockout)."""
        if self._local is not None:
            self._local.storage.reset()
        self._run(lambda limiter: limiter.storage.reset())
