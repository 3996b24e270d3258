"""AI actions: enable or disable each, second-approval thresholds, and what was proposed."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Path, Query, Request
from starlette.responses import RedirectResponse, Response

from companion.assistant import admin_repository as admin_repo
from companion.assistant.actions import settings as action_settings
from companion.assistant.actions.models import ActionStatus
from companion.web.admin.base import (
    SECURITY_HEADERS,
    AdminPage,
    AdminRoute,
    CsrfChecked,
    page_for,
    render,
)
from companion.web.admin.forms import PAGE_SIZE, Paging, choice, optional_amount
from companion.web.deps import ContainerDep, SessionDep

router = APIRouter(prefix="/admin/{company}", route_class=AdminRoute, include_in_schema=False)
ActionsAdmin = Annotated[AdminPage, page_for("ai.admin")]
STATUSES = frozenset(s.value for s in ActionStatus)


@router.get("/actions")
def actions(
    request: Request,
    page: ActionsAdmin,
    session: SessionDep,
    container: ContainerDep,
    status: Annotated[str, Query(max_length=32)] = "",
    p: Annotated[int, Query(ge=1, le=100_000)] = 1,
    saved: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    """Each action's rule in this company, and the proposals of every user, newest first."""
    wanted = choice(status, "status", STATUSES)
    rows, total = admin_repo.list_company_actions(
        session, page.ctx, status=wanted, limit=PAGE_SIZE, offset=(p - 1) * PAGE_SIZE
    )
    rules = action_settings.list_rules(session, page.ctx)
    return render(
        request,
        "actions.html",
        page,
        title="AI actions",
        section="actions",
        rules=rules,
        rows=rows,
        now=container.clock.now(),
        statuses=sorted(STATUSES),
        status=status,
        paging=Paging(p, total),
        query=urlencode({"status": status}),
        notice=f"Saved the rule for {saved}." if saved in {r.action for r in rules} else None,
    )


@router.post("/actions/{action}", dependencies=[CsrfChecked])
def save_rule(
    page: ActionsAdmin,
    session: SessionDep,
    action: Annotated[str, Path(min_length=1, max_length=64)],
    enabled: Annotated[str, Form(max_length=8)] = "",
    second_approval_above: Annotated[str, Form(max_length=32)] = "",
) -> Response:
    """Enable or disable ``action`` for the assistant and set its threshold (audited)."""
    action_settings.set_rule(
        session,
        page.ctx,
        action,
        disabled=choice(enabled, "enabled", frozenset({"on", "true", "1"})) is None,
        second_approval_above=optional_amount(second_approval_above, "second_approval_above"),
    )
    return RedirectResponse(
        f"/admin/{page.ctx.company_slug}/actions?saved={action}", 303, headers=SECURITY_HEADERS
    )
