"""``/api/v1/ai/usage``: what the company's AI use costs, its budgets, the billing export.

The summary, breakdown and export need ``usage.read`` (finance, executive, admin); the
quota is every chat user's own, with the company's budgets shown to ``usage.read`` only.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel
from starlette.responses import Response

from companion.tenancy.context import RequestContext
from companion.web.deps import ContainerDep, SessionDep, require

router = APIRouter(prefix="/ai/usage", tags=["usage"])

UsageReader = Annotated[RequestContext, Depends(require("usage.read"))]
ChatUser = Annotated[RequestContext, Depends(require("ai.use"))]
FromDay = Annotated[
    dt.date | None, Query(alias="from", description="First day (company time); default: 1st")
]
ToDay = Annotated[dt.date | None, Query(alias="to", description="Last day; default: today")]
Dimension = Literal["model", "use_case", "user", "day", "provider"]


class UsageSummary(BaseModel):
    """Totals over a range of days (the company's calendar)."""

    from_day: dt.date
    to_day: dt.date
    currency: str
    turns: int
    model_calls: int
    cached_calls: int
    tokens_in: int
    tokens_out: int
    cost: float
    turn_latency_ms_avg: float | None


class BreakdownRow(BaseModel):
    key: str
    calls: int
    cached_calls: int
    tokens_in: int
    tokens_out: int
    cost: float
    latency_ms_avg: float | None


class UsageBreakdown(BaseModel):
    by: str
    from_day: dt.date
    to_day: dt.date
    currency: str
    rows: list[BreakdownRow]


class QuotaOut(BaseModel):
    """One budget: what is used of it, its hard cap, and when it resets."""

    limit: str
    scope: str
    metric: str
    used: float
    cap: float | None
    ratio: float | None
    resets_at: dt.datetime
    warning: bool
    exceeded: bool


class UsageQuota(BaseModel):
    currency: str
    soft_ratio: float
    on_hard_cap: str
    request_tokens: int | None
    limits: list[QuotaOut]


@router.get("/summary", response_model=UsageSummary)
def usage_summary(
    ctx: UsageReader,
    session: SessionDep,
    container: ContainerDep,
    start: FromDay = None,
    end: ToDay = None,
) -> UsageSummary:
    """Chat turns, model calls, tokens and cost of the company between two days."""
    metering = container.usage_meter().metering
    first, last = metering.date_range(session, ctx, container.clock.now(), start, end)
    figures = metering.summary(session, ctx, first, last)
    return UsageSummary(**{**figures, "cost": float(figures["cost"])})


@router.get("/breakdown", response_model=UsageBreakdown)
def usage_breakdown(
    ctx: UsageReader,
    session: SessionDep,
    container: ContainerDep,
    by: Annotated[Dimension, Query(description="Group by model, use_case, user, day, provider")],
    start: FromDay = None,
    end: ToDay = None,
) -> UsageBreakdown:
    """Model calls grouped by one dimension, largest cost first (by day: in date order)."""
    metering = container.usage_meter().metering
    first, last = metering.date_range(session, ctx, container.clock.now(), start, end)
    rows = metering.breakdown(session, ctx, by, first, last)
    return UsageBreakdown(
        by=by,
        from_day=first,
        to_day=last,
        currency=metering.settings.currency,
        rows=[BreakdownRow(**{**r, "cost": float(r["cost"])}) for r in rows],
    )


@router.get("/quota", response_model=UsageQuota)
def usage_quota(ctx: ChatUser, session: SessionDep, container: ContainerDep) -> UsageQuota:
    """The caller's budgets (and the company's, with ``usage.read``): used, cap, reset."""
    metering = container.usage_meter().metering
    payer = metering.payer(session, ctx)
    caps = metering.budgets.caps(payer)
    lines = metering.quota(session, ctx, container.clock.now())
    if not ctx.can("usage.read"):
        lines = [line for line in lines if line.scope.startswith("user_")]
    return UsageQuota(
        currency=metering.settings.currency,
        soft_ratio=metering.settings.soft_ratio,
        on_hard_cap=caps.on_hard_cap,
        request_tokens=caps.request_tokens,
        limits=[QuotaOut(**line.as_dict()) for line in lines],
    )


def _cell(value: str) -> str:
    """A spreadsheet must not read a cell as a formula (CSV injection)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


@router.get(
    "/export.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
def usage_export(
    ctx: UsageReader,
    session: SessionDep,
    container: ContainerDep,
    start: FromDay = None,
    end: ToDay = None,
) -> Response:
    """Every metered call and turn between two days, one CSV row each (for billing)."""
    metering = container.usage_meter().metering
    first, last = metering.date_range(session, ctx, container.clock.now(), start, end)
    # Built whole inside the request: the session closes when this function returns.
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in metering.export_rows(session, ctx, first, last):
        writer.writerow([_cell(cell) for cell in row])
    filename = f"usage-{ctx.company_slug}-{first.isoformat()}-{last.isoformat()}.csv"
    return Response(
        buffer.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
