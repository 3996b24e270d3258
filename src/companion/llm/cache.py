"""A TTL cache of generations, keyed by company, use case, prompt and the data used."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

from companion.kit import telemetry
from companion.llm.providers.base import Generation, Message

Clock = Callable[[], float]


def cache_key(
    *,
    company: str | int,
    use_case: str,
    messages: Sequence[Message],
    data_fingerprint: str,
    variant: Any = None,
) -> str:
    """A digest of everything that decides the answer; another company never shares a key."""
    material = json.dumps(
        {
            "company": str(company),
            "use_case": use_case,
            "messages": list(messages),
            "data": data_fingerprint,
            "variant": variant,
        },
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


class ResponseCache:
    """Generations kept for their policy's TTL, least recently used evicted first."""

    def __init__(self, *, max_entries: int = 1024, clock: Clock = time.monotonic) -> None:
        self._max = max_entries
        self._clock = clock
        self._entries: OrderedDict[str, tuple[float, Generation]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: str) -> Generation | None:
        """The live entry for ``key``, marked cached, or None."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry[0] <= self._clock():
                if entry is not None:
                    del self._entries[key]
                self.misses += 1
                telemetry.tally("cache", cache="llm", result="miss")
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            telemetry.tally("cache", cache="llm", result="hit")
            return entry[1].as_cached()

    def put(self, key: str, generation: Generation, ttl_s: float) -> None:
        """Keep ``generation`` for ``ttl_s`` seconds (0 or less keeps nothing)."""
        if ttl_s <= 0:
            return
        with self._lock:
            self._entries[key] = (self._clock() + ttl_s, generation)
            self._entries.move_to_end(key)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        """Forget everything (e.g. after a policy or model change)."""
        with self._lock:
            self._entries.clear()
