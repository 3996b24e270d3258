"""Admission to model calls: a bounded queue per process and a limit per user.

Model work is slow (seconds to tens of seconds on a CPU) and runs in the server's worker
threads, which data questions need too. The gate keeps at most ``max_concurrent`` model
calls running and ``max_queued`` waiting, at most ``max_per_user`` of them one user's, so
model work can never hold all the workers. Beyond that a caller gets ``LLMBusy`` (503) or
``LLMUserBusy`` (429) at once, each with ``retry_after`` seconds; both are ``LLMError``, so
a chat turn answers without the model, while a draft endpoint answers the error.

An endpoint whose whole point is a model call takes its slot up front (``slot(wait=...)``,
queueing); the model calls inside it then run in that slot. A model call made without
one (a chat turn rephrasing an answer) takes a free slot or none: it never waits.
"""

from __future__ import annotations

import functools
import math
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from companion.llm.errors import LLMBusy, LLMUserBusy

# Set while this context (a request's worker thread, a task) holds a slot.
_holding: ContextVar[bool] = ContextVar("companion_llm_slot", default=False)
# Who the model work is for, when the caller says so (``acting_for``).
_caller: ContextVar[str | None] = ContextVar("companion_llm_caller", default=None)
# The first estimate of a slot's hold time, before any call has finished.
INITIAL_HOLD_S = 5.0
MAX_RETRY_AFTER_S = 120


@contextmanager
def acting_for(caller: str | int | None) -> Iterator[None]:
    """Count the model calls made inside the block against ``caller``'s limit."""
    token = _caller.set(None if caller is None else str(caller))
    try:
        yield
    finally:
        _caller.reset(token)


# Whether providers marked external may be called (a company in compliance mode: no), or
# the memoised question that says so.
_external_ok: ContextVar[bool | Callable[[], bool]] = ContextVar(
    "companion_llm_external_ok", default=True
)


@contextmanager
def external_providers(allowed: bool | Callable[[], bool]) -> Iterator[None]:
    """Inside the block, providers marked external are skipped unless ``allowed``.

    ``allowed`` may be a callable: it is called once, the first time a provider marked
    external is about to be used, so work that uses none never asks (a policy read saved).
    """
    token = _external_ok.set(allowed if isinstance(allowed, bool) else functools.cache(allowed))
    try:
        yield
    finally:
        _external_ok.reset(token)


def external_allowed() -> bool:
    """Whether the current work may reach a provider marked external."""
    allowed = _external_ok.get()
    return allowed if isinstance(allowed, bool) else allowed()


def current_caller() -> str | None:
    """The caller set by ``acting_for``, if any."""
    return _caller.get()


class ModelGate:
    """At most ``max_concurrent`` model calls at once, ``max_queued`` waiting, per user a few."""

    def __init__(
        self,
        max_concurrent: int = 2,
        *,
        max_queued: int = 4,
        max_per_user: int = 2,
        queue_wait_s: float = 15.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_concurrent < 1 or max_queued < 0 or max_per_user < 1:
            raise ValueError("max_concurrent and max_per_user must be >= 1, max_queued >= 0")
        self.max_concurrent = max_concurrent
        self.max_queued = max_queued
        self.max_per_user = max_per_user
        self.queue_wait_s = queue_wait_s
        self._clock = clock
        self._cond = threading.Condition()
        self._running = 0
        self._waiting = 0
        self._per_user: Counter[str] = Counter()
        self._hold_s = INITIAL_HOLD_S  # a moving average of how long a slot is held

    def holding(self) -> bool:
        """Whether the current context already holds a slot."""
        return _holding.get()

    @contextmanager
    def slot(self, caller: str | int | None = None, *, wait: float = 0.0) -> Iterator[None]:
        """Hold a slot for the block, waiting up to ``wait`` seconds in the queue for one.

        Re-entrant: inside a held slot it admits at once. ``caller`` defaults to the one
        set by ``acting_for``.
        """
        if _holding.get():
            yield
            return
        who = str(caller) if caller is not None else _caller.get()
        self.acquire(who, wait=wait)
        token = _holding.set(True)
        started = self._clock()
        try:
            yield
        finally:
            _holding.reset(token)
            self.release(who, self._clock() - started)

    def acquire(self, caller: str | None, *, wait: float = 0.0) -> None:
        """Take a slot (queueing up to ``wait`` s) or raise ``LLMUserBusy`` / ``LLMBusy``."""
        with self._cond:
            if caller is not None and self._per_user[caller] >= self.max_per_user:
                raise LLMUserBusy(
                    f"You already have {self._per_user[caller]} model requests running; "
                    "wait for one to finish",
                    details={
                        "retry_after": self._retry_after(0),
                        "max_per_user": self.max_per_user,
                    },
                )
            if self._running < self.max_concurrent:
                self._take(caller)
                return
            if wait <= 0 or self._waiting >= self.max_queued:
                raise self._busy()
            self._waiting += 1
            if caller is not None:
                self._per_user[caller] += 1  # a queued request counts against its user too
            deadline = self._clock() + wait
            try:
                while self._running >= self.max_concurrent:
                    remaining = deadline - self._clock()
                    if remaining <= 0:
                        raise self._busy()
                    self._cond.wait(remaining)
            except BaseException:
                self._forget(caller)
                raise
            finally:
                self._waiting -= 1
            self._running += 1

    def release(self, caller: str | None, held_s: float = 0.0) -> None:
        """Give a slot back and wake one waiter."""
        with self._cond:
            self._running -= 1
            self._forget(caller)
            if held_s > 0:
                self._hold_s = 0.7 * self._hold_s + 0.3 * held_s
            self._cond.notify()

    def snapshot(self) -> dict[str, int | float]:
        """Slots running and waiting, and the limits, for the status endpoint."""
        with self._cond:
            return {
                "running": self._running,
                "waiting": self._waiting,
                "max_concurrent": self.max_concurrent,
                "max_queued": self.max_queued,
                "max_per_user": self.max_per_user,
                "average_hold_s": round(self._hold_s, 2),
            }

    def _take(self, caller: str | None) -> None:
        self._running += 1
        if caller is not None:
            self._per_user[caller] += 1

    def _forget(self, caller: str | None) -> None:
        if caller is not None:
            self._per_user[caller] -= 1
            if self._per_user[caller] <= 0:
                del self._per_user[caller]

    def _retry_after(self, ahead: int) -> int:
        """Seconds until a slot is likely free with ``ahead`` requests queued before it."""
        estimate = self._hold_s * (ahead + 1) / self.max_concurrent
        return min(MAX_RETRY_AFTER_S, max(1, math.ceil(estimate)))

    def _busy(self) -> LLMBusy:
        return LLMBusy(
            "The language model is busy with other requests; try again shortly",
            details={
                "retry_after": self._retry_after(self._waiting),
                "running": self._running,
                "waiting": self._waiting,
            },
        )
