"""The detector interface, what a detector finds, and the registry of detectors."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol

from sqlalchemy.orm import Session

from companion.config import AlertSettings
from companion.kit.registry import Registry
from companion.tenancy.context import RequestContext


@dataclass(frozen=True)
class Finding:
    """One condition a detector found, explained; stored as an alert unless already known."""

    type: str
    severity: str  # info, warning, critical
    title: str
    message: str
    module: str
    permission: str  # who may see it (tenancy/permissions.py)
    condition_key: str
    on_date: dt.date
    record_ref: str | None = None
    expected: Decimal | None = None
    observed: Decimal | None = None
    suggested_action: dict[str, Any] | None = None
    assignee_id: int | None = None
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ScanInput:
    """What every detector reads from: the company (a system context), its day, settings."""

    session: Session
    ctx: RequestContext
    today: dt.date
    settings: AlertSettings
    now: dt.datetime | None = None  # the scan's moment (detectors of hours, not days)

    def moment(self) -> dt.datetime:
        """The scan's moment, timezone-aware (now when the caller gave none)."""
        return self.now or dt.datetime.now(dt.UTC)


class Detector(Protocol):
    """Finds the conditions of its alert types as of ``today``."""

    name: str
    # The alert types it reports. A state detector's findings clear once a scan no longer
    # finds them (stock replenished); an event detector's stay (an anomalous day happened).
    types: tuple[str, ...]
    state: bool

    def detect(self, scan: ScanInput) -> list[Finding]: ...


_DETECTORS: Registry[Detector] = Registry(
    "companion.alerts.detectors",
    skip={"base", "anomaly"},
    duplicate="detector {name!r} is already registered",
)


def register_detector(detector: Detector) -> Detector:
    """Register ``detector`` under its name; adding a detector is adding one module."""
    return _DETECTORS.register(detector.name, detector)


def all_detectors() -> list[Detector]:
    """Every registered detector, by name."""
    return [d for name in _DETECTORS.names() if (d := _DETECTORS.get(name)) is not None]
