"""Kinds, scopes and retention classes of memories, and a company's policy over them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

KINDS = ("preference", "fact", "reminder", "summary")
SCOPES = ("user", "company", "global")
RETENTIONS = ("short", "medium", "long", "permanent")

# Built-in lifetimes of the classes (seconds); ``permanent`` never expires.
DEFAULT_TTLS: dict[str, int] = {
    "short": 3600,
    "medium": 30 * 86400,
    "long": 365 * 86400,
}

# The class a memory gets when none is asked for.
DEFAULT_RETENTION: dict[str, str] = {
    "preference": "long",
    "fact": "long",
    "reminder": "medium",
    "summary": "medium",
}

# A TTL a company may set: a minute to ten years.
MIN_TTL_S = 60
MAX_TTL_S = 10 * 366 * 86400


@dataclass(frozen=True)
class Policy:
    """A company's effective memory policy (the defaults where it set nothing)."""

    ttls: dict[str, int]
    pii_scrubbing: bool = True
    compliance_mode: bool = False

    @classmethod
    def default(cls) -> Policy:
        return cls(ttls=dict(DEFAULT_TTLS))

    def expiry(self, retention: str, now: dt.datetime) -> dt.datetime | None:
        """When a memory of class ``retention`` made at ``now`` is deleted (None: never)."""
        if retention == "permanent":
            return None
        return now + dt.timedelta(seconds=self.ttls[retention])

    def allows_external_providers(self) -> bool:
        """Whether a model provider outside the company's own machines may see its data."""
        return not self.compliance_mode
