"""Alerts: what the detectors found in this company, filtered, with dismiss and a re-scan."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Query, Request
from starlette.responses import RedirectResponse, Response

from companion.alerts import repository as alerts_repo
from companion.alerts import service as alerts
from companion.alerts.models import AlertStatus
from companion.jobs.alert_sources import TYPES as SOURCE_TYPES
from companion.jobs.alert_sources import detectors_for
from companion.web.admin.base import (
    SECURITY_HEADERS,
    AdminPage,
    AdminRoute,
    CsrfChecked,
    page_for,
    render,
)
from companion.web.admin.forms import PAGE_SIZE, Paging, choice
from companion.web.deps import MAX_ID, ContainerDep, SessionDep

router = APIRouter(prefix="/admin/{company}", route_class=AdminRoute, include_in_schema=False)
AlertsAdmin = Annotated[AdminPage, page_for("ai.admin")]
STATUSES = frozenset(s.value for s in AlertStatus)
TYPES = frozenset(
    "sales_anomaly low_stock overdue_receivables payables_due cash_runway approval_waiting".split()
) | set(SOURCE_TYPES)


@router.get("/alerts")
def alerts_page(
    request: Request,
    page: AlertsAdmin,
    session: SessionDep,
    status: Annotated[str, Query(max_length=32)] = "",
    type: Annotated[str, Query(max_length=32)] = "",
    p: Annotated[int, Query(ge=1, le=100_000)] = 1,
    notice: Annotated[str, Query(max_length=16)] = "",
) -> Response:
    """The company's alerts (those the administrator's permissions read), newest day first."""
    wanted = choice(status, "status", STATUSES)
    kind = choice(type, "type", TYPES)
    rows, total = alerts_repo.list_alerts(
        session,
        page.ctx,
        statuses=[wanted] if wanted else [],
        types=[kind] if kind else [],
        limit=PAGE_SIZE,
        offset=(p - 1) * PAGE_SIZE,
    )
    messages = {"dismissed": "Alert dismissed.", "scanned": "Scan finished."}
    return render(
        request,
        "alerts.html",
        page,
        title="Alerts",
        section="alerts",
        rows=rows,
        statuses=sorted(STATUSES),
        types=sorted(TYPES),
        status=status,
        type=type,
        paging=Paging(p, total),
        query=urlencode({"status": status, "type": type}),
        notice=messages.get(notice),
    )


@router.post("/alerts/scan", dependencies=[CsrfChecked])
def scan_now(page: AlertsAdmin, session: SessionDep, container: ContainerDep) -> Response:
    """Run the detectors for this company now (the scheduler does it on its own too)."""
    alerts.scan_company(
        session,
        page.ctx.company_id,
        container.settings.current_date(),
        container.settings.alerts,
        now=container.clock.now(),
        extra=detectors_for(container),
    )
    return RedirectResponse(
        f"/admin/{page.ctx.company_slug}/alerts?notice=scanned", 303, headers=SECURITY_HEADERS
    )


@router.post("/alerts/{alert_id}/dismiss", dependencies=[CsrfChecked])
def dismiss(
    page: AlertsAdmin,
    session: SessionDep,
    container: ContainerDep,
    alert_id: Annotated[int, Path(ge=1, le=MAX_ID)],
) -> Response:
    """Dismiss one alert."""
    alerts.dismiss(session, page.ctx, alert_id, container.clock.now())
    return RedirectResponse(
        f"/admin/{page.ctx.company_slug}/alerts?notice=dismissed", 303, headers=SECURITY_HEADERS
    )
