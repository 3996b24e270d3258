"""Budget counters: reserve a charge on several counters at once, all or none, atomically.

A reservation adds its amount to every counter only if none of them would pass its cap
(``spent + amount <= cap``, checked and added in one step), so concurrent callers can never
take a counter past its cap together. The database store does it with conditional
updates (``counter_repository``); this module has the Redis one (a Lua script), and
``FallbackCounters``: Redis, and the database while Redis cannot be reached.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from companion.governance.usage.fallback import Fallback, redis_options

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


@dataclass(frozen=True, order=True)
class CounterKey:
    """One counter: a company's scope (user_day, company_day, company_month) in one period."""

    company_id: int
    scope: str
    subject: int  # the user for user scopes, else 0
    period: str
    metric: str  # tokens | cost (millionths of the currency)

    def redis_key(self, prefix: str) -> str:
        # The company in braces: every key of one reservation hashes to one cluster slot.
        return (
            f"{prefix}{{{self.company_id}}}:{self.scope}:{self.subject}:{self.period}:{self.metric}"
        )


@dataclass(frozen=True)
class Charge:
    """Add ``amount`` to ``key``, refused when that passes ``cap`` (None: no cap)."""

    key: CounterKey
    amount: int
    cap: int | None
    ttl_s: int  # Redis keeps the counter this long (its period and a margin)


class CounterStore(Protocol):
    """Where counters live: the database or Redis."""

    def reserve(self, charges: Sequence[Charge], session: Session | None = None) -> Charge | None:
        """Add every charge or none; the charge whose cap refused, or None when all were added."""
        ...

    def release(self, charges: Sequence[Charge], session: Session | None = None) -> None:
        """Take the charges' amounts back off (never below zero)."""
        ...

    def read(
        self, keys: Sequence[CounterKey], session: Session | None = None
    ) -> dict[CounterKey, int]:
        """What each counter holds (0 for one never charged)."""
        ...


# KEYS: the counters; ARGV: amount, cap (-1: none), ttl for each key in turn.
_RESERVE = """
for i = 1, #KEYS do
  local cap = tonumber(ARGV[3 * i - 1])
  if cap >= 0 then
    local spent = tonumber(redis.call('GET', KEYS[i]) or '0')
    if spent + tonumber(ARGV[3 * i - 2]) > cap then
      return i
    end
  end
end
for i = 1, #KEYS do
  redis.call('INCRBY', KEYS[i], ARGV[3 * i - 2])
  redis.call('EXPIRE', KEYS[i], ARGV[3 * i])
end
return 0
"""

# KEYS: the counters; ARGV: the amount to take off each.
_RELEASE = """
for i = 1, #KEYS do
  local left = tonumber(redis.call('GET', KEYS[i]) or '0') - tonumber(ARGV[i])
  if left < 0 then left = 0 end
  redis.call('SET', KEYS[i], left, 'KEEPTTL')
end
return 0
"""


class RedisCounters:
    """Counters in Redis: one Lua script checks every cap and adds, atomically."""

    def __init__(self, client: Any, prefix: str = "companion:usage:") -> None:
        self._client = client
        self._prefix = prefix
        self._reserve = client.register_script(_RESERVE)
        self._release = client.register_script(_RELEASE)

    @classmethod
    def from_url(cls, url: str) -> RedisCounters:
        """A store on the Redis server at ``url`` (needs the ``redis`` package)."""
        import redis

        return cls(redis.Redis.from_url(url, **redis_options(url)))

    def reserve(self, charges: Sequence[Charge], session: Session | None = None) -> Charge | None:
        if not charges:
            return None
        args: list[int] = []
        for charge in charges:
            args += [charge.amount, -1 if charge.cap is None else charge.cap, max(1, charge.ttl_s)]
        refused = int(
            self._reserve(keys=[c.key.redis_key(self._prefix) for c in charges], args=args)
        )
        return charges[refused - 1] if refused else None

    def release(self, charges: Sequence[Charge], session: Session | None = None) -> None:
        live = [c for c in charges if c.amount]
        if live:
            self._release(
                keys=[c.key.redis_key(self._prefix) for c in live], args=[c.amount for c in live]
            )

    def read(
        self, keys: Sequence[CounterKey], session: Session | None = None
    ) -> dict[CounterKey, int]:
        if not keys:
            return {}
        values = self._client.mget([k.redis_key(self._prefix) for k in keys])
        return {k: int(v or 0) for k, v in zip(keys, values, strict=True)}

    def clear(self, company_id: int) -> None:
        """Forget one company's counters (tests)."""
        for key in self._client.scan_iter(f"{self._prefix}{{{company_id}}}:*"):
            self._client.delete(key)


class FallbackCounters:
    """Counters in ``primary`` (Redis); in ``fallback`` (the database) while it is unreachable.

    During an outage each store enforces the caps on what it counted, so a period that
    spans one may spend up to a cap in each; a release goes to the store reachable then.
    """

    def __init__(
        self, primary: CounterStore, fallback: CounterStore, guard: Fallback | None = None
    ) -> None:
        self.primary = primary
        self.fallback = fallback
        self.guard = guard or Fallback("budget counters (Redis)")

    def reserve(self, charges: Sequence[Charge], session: Session | None = None) -> Charge | None:
        return self.guard.call(
            lambda: self.primary.reserve(charges, session),
            lambda: self.fallback.reserve(charges, session),
        )

    def release(self, charges: Sequence[Charge], session: Session | None = None) -> None:
        self.guard.call(
            lambda: self.primary.release(charges, session),
            lambda: self.fallback.release(charges, session),
        )

    def read(
        self, keys: Sequence[CounterKey], session: Session | None = None
    ) -> dict[CounterKey, int]:
        return self.guard.call(
            lambda: self.primary.read(keys, session), lambda: self.fallback.read(keys, session)
        )
