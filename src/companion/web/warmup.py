"""Warm start: load what the first chat turn needs before ``/readyz`` says ready.

The server accepts connections at once (``/healthz`` is liveness), loads the NLU, the
embedder and the knowledge index in a background thread, and answers ``/readyz`` with 503
``warming`` until they are loaded; so the first question is as fast as the hundredth.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from companion.bootstrap import Container
from companion.knowledge.index import IndexUnavailable

log = logging.getLogger(__name__)

Step = tuple[str, Callable[[], object]]


def default_steps(container: Container) -> list[Step]:
    """The loads a chat turn would otherwise do on first use, in order."""
    return [
        ("nlu", container.assistant),  # the shipped NLU and the assistant around it
        # One embedding: the ONNX session's first run allocates its buffers.
        ("embedder", lambda: container.memory_embedder().embed(["warm up"])),
        ("index", lambda: _open_index(container)),  # opened, or rebuilt from the chunk table
        # The skills' modules, the data questions' vocabulary and the language-model service
        # (its policies parsed; no model is loaded): a first turn built them, ~80 ms.
        ("turn", lambda: _prepare_turn(container)),
    ]


def _prepare_turn(container: Container) -> None:
    container.assistant().prepare()
    container.llm()


def _open_index(container: Container) -> None:
    """Open the knowledge index; one that cannot be reached (Qdrant down) is not fatal.

    The server is ready without it: knowledge questions say the knowledge base is not
    available, and the index is opened on the first question after it is back.
    """
    try:
        container.retriever()
    except IndexUnavailable as exc:
        log.warning("warmup: knowledge index unavailable, serving without it: %s", exc.message)


class Warmup:
    """Runs ``steps`` once in a background thread; ``ready`` when all have run."""

    def __init__(self, steps: list[Step]) -> None:
        self.steps = steps
        self.timings_ms: dict[str, float] = {}
        self.failed: str | None = None
        self._done = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def ready(self) -> bool:
        """Whether every step has run without error."""
        return self._done.is_set() and self.failed is None

    def start(self) -> None:
        """Start loading (once); returns at once."""
        if self._thread is None:
            self._thread = threading.Thread(target=self.run, name="companion-warmup", daemon=True)
            self._thread.start()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the steps have run (or failed); whether they finished in time."""
        return self._done.wait(timeout)

    def run(self) -> None:
        """Run every step in order; a failure is logged with its traceback and kept."""
        started = time.perf_counter()
        try:
            for name, step in self.steps:
                t0 = time.perf_counter()
                step()
                self.timings_ms[name] = round((time.perf_counter() - t0) * 1000, 1)
        except Exception as exc:  # a thread's boundary: kept for /readyz, logged here
            self.failed = f"{type(exc).__name__}: {exc}"
            log.exception("warmup failed")
        finally:
            self._done.set()
        log.info(
            "warmup done",
            extra={
                "ms": round((time.perf_counter() - started) * 1000, 1),
                "steps": self.timings_ms,
                "failed": self.failed,
            },
        )

    def progress(self) -> dict[str, Any]:
        """What is loaded so far (and the failure, if one stopped it), for ``/readyz``."""
        out: dict[str, Any] = {"loaded": sorted(self.timings_ms)}
        if self.failed is not None:
            out["reason"] = "warmup_failed"
            out["error"] = self.failed
        return out
