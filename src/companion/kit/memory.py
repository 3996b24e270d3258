"""Giving memory back to the operating system after a big piece of work."""

from __future__ import annotations

import ctypes
import gc
import sys
from functools import lru_cache
from typing import Any


@lru_cache(maxsize=1)
def _libc() -> Any | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc (musl): nothing to trim
        return None
    return libc if hasattr(libc, "malloc_trim") else None


def release_memory() -> bool:
    """Collect garbage and return freed heap pages to the OS; whether glibc could be asked.

    A large ingestion frees hundreds of MB of intermediate text and vectors, but glibc keeps
    freed pages in its arenas, so the server's RSS would stay at its peak (issue 21, F5).
    """
    gc.collect()
    libc = _libc()
    if libc is None:
        return False
    libc.malloc_trim(0)
    return True
