"""REST twins of the assistant's figure-only answers: sales totals and the dashboard.

They run the very query the chat runs (same permission, same read-only transaction), gated
by the figure they serve, so ``sales.read`` sees sales totals here exactly as in chat while
single invoices stay ``finance.read`` (``GET /invoices``).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from companion.assistant.queries import registry as queries
from companion.assistant.queries.registry import Period, QueryParams
from companion.assistant.queries.runner import run_query
from companion.assistant.skills.data_query import table_data
from companion.errors import ValidationFailed
from companion.tenancy.context import RequestContext
from companion.web.deps import MAX_ID, ContainerDep, SessionDep
from companion.web.figures import require_figure

router = APIRouter(prefix="/reports", tags=["reports"])

SalesTotalsReader = Annotated[RequestContext, Depends(require_figure("sales_totals"))]
DashboardReader = Annotated[RequestContext, Depends(require_figure("dashboard"))]
QueryId = Annotated[int | None, Query(ge=1, le=MAX_ID)]
Day = Annotated[dt.date | None, Query()]
TopN = Annotated[int | None, Query(ge=1, le=100)]


def _period(start: dt.date | None, end: dt.date | None) -> Period | None:
    if start is None and end is None:
        return None
    if start is None or end is None:
        raise ValidationFailed("Give both start and end, or neither.", details={"field": "start"})
    if start > end:
        raise ValidationFailed("start is after end.", details={"start": str(start)})
    return Period(start=start, end=end)


def _run(
    intent: str,
    session: SessionDep,
    ctx: RequestContext,
    container: ContainerDep,
    params: QueryParams,
) -> dict[str, Any]:
    spec = queries.get(intent)
    if spec is None:  # pragma: no cover - every data intent has a query (tested)
        raise LookupError(f"no query for {intent}")
    result = run_query(session, ctx, spec, params, container.clock.today())
    return {"summary": result.summary, **table_data(result)}


@router.get("/sales-summary")
def sales_summary(
    session: SessionDep,
    ctx: SalesTotalsReader,
    container: ContainerDep,
    start: Day = None,
    end: Day = None,
    customer_id: QueryId = None,
    item_id: QueryId = None,
) -> dict[str, Any]:
    """Sales net of tax per month (default this month so far), as the assistant answers."""
    params = QueryParams(period=_period(start, end), customer_id=customer_id, item_id=item_id)
    return _run("sales_summary", session, ctx, container, params)


@router.get("/top-customers")
def top_customers(
    session: SessionDep,
    ctx: SalesTotalsReader,
    container: ContainerDep,
    start: Day = None,
    end: Day = None,
    top_n: TopN = None,
) -> dict[str, Any]:
    """Customers ranked by sales net of tax (default the last 12 months, top 5)."""
    params = QueryParams(period=_period(start, end), top_n=top_n)
    return _run("top_customers", session, ctx, container, params)


@router.get("/dashboard")
def dashboard(session: SessionDep, ctx: DashboardReader, container: ContainerDep) -> dict[str, Any]:
    """The headline figures (cash, overdue receivables, bills due, sales, approvals)."""
    return _run("dashboard_summary", session, ctx, container, QueryParams())
