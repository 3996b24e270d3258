"""Scans that turn detector findings into alerts, and what users do with alerts.

``scan_company`` is the plain function the scheduler (``jobs/``) and ``companion alerts
scan`` call: idempotent and safe to retry, since an alert is keyed by its condition and
inserted with ``ON CONFLICT DO NOTHING``. Like every service it flushes and never commits.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from companion.alerts import outbound
from companion.alerts import repository as repo
from companion.alerts.detectors.base import Detector, Finding, ScanInput, all_detectors
from companion.alerts.models import Alert, AlertStatus
from companion.alerts.schemas import AlertOut
from companion.config import AlertSettings
from companion.errors import Conflict, NotFound
from companion.kit import telemetry
from companion.kit.after_commit import after_commit
from companion.kit.jsonable import jsonable
from companion.tenancy.context import RequestContext
from companion.tenancy.models import Company
from companion.tenancy.permissions import PERMISSIONS

SEVERITY_RANK = {"critical": 0, "warning": 1, "info": 2}
S = AlertStatus


@dataclass
class ScanResult:
    """What one scan of one company found and stored."""

    company: str
    found: int = 0
    created: int = 0
    cleared: int = 0
    by_type: dict[str, int] = field(default_factory=dict)


def system_context(company: Company) -> RequestContext:
    """The scan's own context: reads every figure of ``company`` (it writes no ERP data)."""
    return RequestContext(
        user_id=0,
        username="companion-alerts",
        company_id=company.id,
        company_slug=company.slug,
        currency=company.base_currency,
        roles=("admin",),
        permissions=frozenset(PERMISSIONS),
        locale=company.locale,
        fiscal_year_start_month=company.fiscal_year_start_month,
    )


def scan_company(
    session: Session,
    company_id: int,
    today: dt.date,
    settings: AlertSettings | None = None,
    *,
    now: dt.datetime | None = None,
    extra: Sequence[Detector] = (),
) -> ScanResult:
    """Run every detector for one company as of ``today``; store new alerts, clear old ones.

    ``extra``: detectors the caller built over what sits above this floor (stalled data
    imports, model budgets: ``jobs.alert_sources``), run like the registered ones.
    """
    company = session.get(Company, company_id)
    if company is None:
        raise NotFound(f"Company {company_id} not found", details={"company_id": company_id})
    stamp = now or dt.datetime.now(dt.UTC)
    scan = ScanInput(session, system_context(company), today, settings or AlertSettings(), stamp)
    result = ScanResult(company.slug)
    state_types: list[str] = []
    findings: list[Finding] = []
    for detector in [*all_detectors(), *extra]:
        found = detector.detect(scan)
        findings += found
        if detector.state:
            state_types += detector.types
    # One finding per key (two detectors never share a key; a detector might repeat one).
    unique = {f.condition_key: f for f in findings}
    result.found = len(unique)
    for f in unique.values():
        result.by_type[f.type] = result.by_type.get(f.type, 0) + 1
    created = repo.upsert(session, company.id, [_row(f, stamp) for f in unique.values()])
    result.created = len(created)
    rows = repo.alerts_by_ids(session, company.id, created) if created else []
    for alert in rows:
        telemetry.emit(
            session,
            telemetry.ALERT_RAISED,
            company_id=company.id,
            data={"alert_id": alert.id, "type": alert.type, "severity": alert.severity},
        )
    if rows and outbound.wanted(scan.settings, company.slug):
        # Built now (plain JSON), sent once the scan commits; a rollback sends nothing.
        names = repo.usernames(session, [a.assignee_id for a in rows])
        payload = [AlertOut.of(a, names).model_dump(mode="json") for a in rows]
        after_commit(
            session,
            partial(outbound.deliver, scan.settings, company.slug, payload),
            failure="delivering new alerts failed",
        )
    gone = [
        ident
        for key, ident in repo.open_keys(session, company.id, state_types).items()
        if key not in unique
    ]
    repo.clear(session, company.id, gone, stamp)
    result.cleared = len(gone)
    return result


def scan_all(
    session: Session, today: dt.date, settings: AlertSettings | None = None
) -> list[ScanResult]:
    """``scan_company`` for every active company."""
    ids = session.execute(select(Company.id).where(Company.is_active.is_(True))).scalars()
    return [scan_company(session, cid, today, settings) for cid in list(ids)]


def _row(f: Finding, now: dt.datetime) -> dict[str, Any]:
    return {
        "type": f.type,
        "severity": f.severity,
        "title": f.title[:200],
        "message": f.message[:1000],
        "module": f.module,
        "permission": f.permission,
        "record_ref": f.record_ref,
        "on_date": f.on_date,
        "expected": f.expected,
        "observed": f.observed,
        "suggested_action": jsonable(f.suggested_action) if f.suggested_action else None,
        "details": jsonable(f.details),
        "assignee_id": f.assignee_id,
        "status": S.UNREAD.value,
        "condition_key": f.condition_key[:200],
        "created_at": now,
        "updated_at": now,
    }


def mark_read(session: Session, ctx: RequestContext, alert_id: int, now: dt.datetime) -> Alert:
    """Unread -> read (anything else stays as it is)."""
    repo.get_alert(session, ctx, alert_id)
    repo.set_status(session, ctx, alert_id, S.READ.value, now, only_from=(S.UNREAD.value,))
    return _reread(session, ctx, alert_id)


def dismiss(session: Session, ctx: RequestContext, alert_id: int, now: dt.datetime) -> Alert:
    """Dismiss an open alert; dismissing it again changes nothing."""
    alert = repo.get_alert(session, ctx, alert_id)
    if alert.status == S.ACTED:
        raise Conflict(
            "This alert was already acted on", details={"alert_id": alert_id, "status": "acted"}
        )
    if repo.set_status(
        session, ctx, alert_id, S.DISMISSED.value, now, only_from=(S.UNREAD.value, S.READ.value)
    ):
        _acted(session, ctx, alert, "dismissed")
    return _reread(session, ctx, alert_id)


def claim_for_action(
    session: Session, ctx: RequestContext, alert_id: int, now: dt.datetime, token: str
) -> bool:
    """Record the confirmation opened from an open alert; False when another was first."""
    claimed = repo.set_status(
        session,
        ctx,
        alert_id,
        S.ACTED.value,
        now,
        only_from=(S.UNREAD.value, S.READ.value),
        action_token=token,
    )
    if claimed:
        _acted(session, ctx, repo.get_alert(session, ctx, alert_id), "action")
    return claimed


def _acted(session: Session, ctx: RequestContext, alert: Alert, how: str) -> None:
    telemetry.emit(
        session,
        telemetry.ALERT_ACTED,
        company_id=ctx.company_id,
        user_id=ctx.user_id or None,
        data={"alert_id": alert.id, "type": alert.type, "how": how},
    )


def ranked(alerts: list[Alert]) -> list[Alert]:
    """Most severe first, then the newest day, then unread before read."""
    return sorted(
        alerts,
        key=lambda a: (
            SEVERITY_RANK.get(a.severity, 9),
            -a.on_date.toordinal(),
            a.status != S.UNREAD,
            a.id,
        ),
    )


def _reread(session: Session, ctx: RequestContext, alert_id: int) -> Alert:
    return repo.get_alert(session, ctx, alert_id)
