"""Per-provider health: rolling latency and error rate, a status, and a circuit breaker.

The breaker opens after ``failure_threshold`` consecutive failures; after ``cooldown_s`` it
half-opens and lets one trial call through, which closes it on success or reopens it.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from companion.kit import telemetry
from companion.llm.policies import HealthPolicy

Clock = Callable[[], float]


class Breaker(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class Status(StrEnum):
    HEALTHY = "healthy"
    DEGRADED = "degraded"
    UNHEALTHY = "unhealthy"


@dataclass(frozen=True)
class _Call:
    ok: bool
    latency_ms: float
    slow: bool


class ProviderHealth:
    """The recent record of one provider and its circuit breaker."""

    def __init__(self, name: str, policy: HealthPolicy, *, clock: Clock = time.monotonic):
        self.name = name
        self._policy = policy
        self._clock = clock
        self._calls: deque[_Call] = deque(maxlen=policy.window)
        self._lock = threading.Lock()
        self.consecutive_failures = 0
        self._breaker = Breaker.CLOSED
        self._opened_at = 0.0
        self._trial_running = False
        self.last_error: str | None = None

    @property
    def breaker(self) -> Breaker:
        """The breaker's state, moving open -> half-open once the cooldown has passed."""
        with self._lock:
            return self._state()

    def _state(self) -> Breaker:
        if (
            self._breaker is Breaker.OPEN
            and self._clock() - self._opened_at >= self._policy.cooldown_s
        ):
            self._breaker = Breaker.HALF_OPEN
            self._trial_running = False
        return self._breaker

    def allow(self) -> bool:
        """Whether a call may go to this provider now (a half-open breaker lets one through)."""
        with self._lock:
            state = self._state()
            if state is Breaker.CLOSED:
                return True
            if state is Breaker.HALF_OPEN and not self._trial_running:
                self._trial_running = True
                return True
            return False

    def record_success(self, latency_ms: float, budget_ms: float | None = None) -> None:
        """A call answered; a trial success closes the breaker."""
        telemetry.tally("model_calls", provider=self.name, outcome="ok")
        with self._lock:
            slow = budget_ms is not None and latency_ms > budget_ms
            self._calls.append(_Call(ok=True, latency_ms=latency_ms, slow=slow))
            self.consecutive_failures = 0
            self._breaker = Breaker.CLOSED
            self._trial_running = False

    def record_failure(self, latency_ms: float, error: str) -> None:
        """A call failed; enough in a row, or a failed trial, opens the breaker."""
        telemetry.tally("model_calls", provider=self.name, outcome="error")
        with self._lock:
            self._calls.append(_Call(ok=False, latency_ms=latency_ms, slow=False))
            self.consecutive_failures += 1
            self.last_error = error
            state = self._state()
            if (
                state is Breaker.HALF_OPEN
                or self.consecutive_failures >= self._policy.failure_threshold
            ):
                self._breaker = Breaker.OPEN
                self._opened_at = self._clock()
                self._trial_running = False

    def release_trial(self) -> None:
        """A half-open trial ended without a verdict (e.g. cancelled); let another try."""
        with self._lock:
            self._trial_running = False

    def error_rate(self) -> float:
        """Failures over the window's calls (0 with no calls)."""
        with self._lock:
            calls = list(self._calls)
        return sum(1 for c in calls if not c.ok) / len(calls) if calls else 0.0

    def status(self) -> Status:
        """Unhealthy while the breaker is not closed; degraded on errors or slowness."""
        with self._lock:
            state = self._state()
            calls = list(self._calls)
        if state is not Breaker.CLOSED:
            return Status.UNHEALTHY
        if not calls:
            return Status.HEALTHY
        errors = sum(1 for c in calls if not c.ok) / len(calls)
        slow = sum(1 for c in calls if c.slow) / len(calls)
        if errors >= self._policy.degraded_error_rate or slow >= 0.5:
            return Status.DEGRADED
        return Status.HEALTHY

    def snapshot(self) -> dict[str, Any]:
        """The figures shown by the AI status endpoint."""
        with self._lock:
            calls = list(self._calls)
        latencies = sorted(c.latency_ms for c in calls if c.ok)
        p95 = latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))] if latencies else None
        return {
            "provider": self.name,
            "status": self.status().value,
            "breaker": self.breaker.value,
            "calls": len(calls),
            "error_rate": round(self.error_rate(), 3),
            "latency_ms_p50": round(statistics.median(latencies), 1) if latencies else None,
            "latency_ms_p95": round(p95, 1) if p95 is not None else None,
            "consecutive_failures": self.consecutive_failures,
            "last_error": self.last_error,
        }


class HealthBoard:
    """The health of every provider, created on first mention."""

    def __init__(self, policy: HealthPolicy, *, clock: Clock = time.monotonic) -> None:
        self._policy = policy
        self._clock = clock
        self._providers: dict[str, ProviderHealth] = {}
        self._lock = threading.Lock()

    def __getitem__(self, name: str) -> ProviderHealth:
        with self._lock:
            health = self._providers.get(name)
            if health is None:
                health = ProviderHealth(name, self._policy, clock=self._clock)
                self._providers[name] = health
            return health

    def snapshot(self) -> list[dict[str, Any]]:
        """Every provider's figures, by name."""
        with self._lock:
            providers = sorted(self._providers.values(), key=lambda h: h.name)
        return [p.snapshot() for p in providers]
