"""Adapters that give other packages' functions the periodic-job signature.

A periodic job is called as ``fn(session, company, clock)`` (and ``container=`` when
registered with ``container=True``); a function with another signature gets a small
adapter here, and its one registration line in ``jobs/schedules`` names the adapter.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from companion.bootstrap import Container
from companion.kit.clock import Clock
from companion.tenancy.models import Company


def scan_alerts(session: Session, company: Company, clock: Clock, *, container: Container) -> Any:
    """Run the alert detectors for one company as of the business date (alerts.service)."""
    from companion.alerts.service import scan_company
    from companion.jobs.alert_sources import detectors_for

    return scan_company(
        session,
        company.id,
        clock.today(),
        container.settings.alerts,
        now=clock.now(),
        extra=detectors_for(container),
    )


def sweep_memories(session: Session, company: Company, clock: Clock) -> Any:
    """Delete the company's memories past their expiry (governance.memory's retention)."""
    from companion.governance.memory.service import sweep_company

    return {"deleted": sweep_company(session, company.id, clock.now())}
