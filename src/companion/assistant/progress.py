"""What a chat turn reports while it runs: its steps, the model's text pieces, cancellation.

The streaming endpoint hands a ``Progress`` to ``Assistant.turn``; the turn runs in a worker
thread and calls ``status`` and ``token``, which the endpoint forwards as server-sent events.
When the client goes away the endpoint calls ``cancel``: a model still writing is stopped and
the turn finishes with the answer it can give without it. A turn without a ``Progress``
(the plain chat endpoint, the CLI) reports nothing.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# The steps a turn goes through, in the order they can happen.
STEPS = ("understanding", "choosing_tool", "querying", "retrieving", "generating", "recording")

Emit = Callable[[str, dict[str, Any]], None]


@dataclass
class Progress:
    """Forwards a turn's events to ``emit(kind, data)``; safe to call from any thread."""

    emit: Emit
    _cancelled: threading.Event = field(default_factory=threading.Event, repr=False)

    def status(self, step: str, **info: Any) -> None:
        """The turn started ``step`` (one of ``STEPS``)."""
        if step not in STEPS:
            raise ValueError(f"unknown step {step!r}")
        self.emit("status", {"step": step, **info})

    def token(self, text: str) -> None:
        """A piece of text a model just wrote (shown provisionally; the final answer rules)."""
        if text:
            self.emit("token", {"text": text})

    def cancel(self) -> None:
        """The client went away: stop generating as soon as possible."""
        self._cancelled.set()

    @property
    def cancelled(self) -> bool:
        """Whether ``cancel`` was called."""
        return self._cancelled.is_set()


def report(progress: Progress | None, step: str, **info: Any) -> None:
    """``progress.status(step)`` when the turn is being streamed."""
    if progress is not None:
        progress.status(step, **info)
