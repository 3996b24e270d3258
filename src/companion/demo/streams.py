"""Named, seeded random streams: one ``random.Random`` per purpose, never the global one.

A stream's seed is derived from the demo seed and the stream's name, so adding a new
stream (or drawing more from one) leaves every other stream's numbers unchanged. Callers
use only ``random()``, ``randint``, ``choice``, ``choices`` and ``shuffle`` on lists, and
basic arithmetic on the results: those are bit-identical on every platform, whereas
``gauss``/``lognormvariate`` go through the C library's ``log``/``exp``.
"""

from __future__ import annotations

import hashlib
import random
from decimal import Decimal

SEED = 20260401


def stream(*names: str, seed: int = SEED) -> random.Random:
    """The random stream called ``names`` (e.g. ``stream("acme", "sales")``)."""
    key = ":".join((str(seed), *names)).encode()
    return random.Random(int.from_bytes(hashlib.sha256(key).digest()[:8], "big"))


def jitter(rng: random.Random, value: Decimal, pct: int) -> Decimal:
    """``value`` moved up or down by a whole percentage of at most ``pct``."""
    return value * (100 + rng.randint(-pct, pct)) / 100


def chance(rng: random.Random, percent: float) -> bool:
    """True with probability ``percent`` / 100."""
    return rng.random() * 100 < percent
