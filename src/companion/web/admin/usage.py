"""Usage and budgets: the month's model use and cost, by model and user, and every budget."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from companion.web.admin.base import AdminPage, AdminRoute, page_for, render
from companion.web.admin.forms import optional_date
from companion.web.deps import ContainerDep, SessionDep

router = APIRouter(prefix="/admin/{company}", route_class=AdminRoute, include_in_schema=False)
UsageReader = Annotated[AdminPage, page_for("usage.read")]
Day = Annotated[str, Query(max_length=10)]


@router.get("/usage")
def usage_page(
    request: Request,
    page: UsageReader,
    session: SessionDep,
    container: ContainerDep,
    date_from: Day = "",
    date_to: Day = "",
) -> Response:
    """Totals, breakdowns by model, use case, user and day, and the budgets with warnings."""
    metering = container.usage_meter().metering
    now = container.clock.now()
    first, last = metering.date_range(
        session,
        page.ctx,
        now,
        optional_date(date_from, "date_from"),
        optional_date(date_to, "date_to"),
    )
    quota = metering.quota(session, page.ctx, now)
    payer = metering.payer(session, page.ctx)
    return render(
        request,
        "usage.html",
        page,
        title="Usage and budgets",
        section="usage",
        summary=metering.summary(session, page.ctx, first, last),
        breakdowns={
            by: metering.breakdown(session, page.ctx, by, first, last)
            for by in ("model", "use_case", "user", "day")
        },
        quota=quota,
        warnings=[q for q in quota if q.warning],
        caps=metering.budgets.caps(payer),
        form={"date_from": first.isoformat(), "date_to": last.isoformat()},
    )
