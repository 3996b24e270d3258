"""The audit log: filtered entries with old and new values, and verifying the chain."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from companion.audit import repository as audit_repo
from companion.audit import service as audit
from companion.web.admin.base import AdminPage, AdminRoute, CsrfChecked, page_for, render
from companion.web.admin.forms import PAGE_SIZE, Paging, choice, day_after, day_start, optional_date
from companion.web.deps import SessionDep, reads_only

router = APIRouter(prefix="/admin/{company}", route_class=AdminRoute, include_in_schema=False)
Auditor = Annotated[AdminPage, page_for("audit.read")]
Field = Annotated[str, Query(max_length=64)]
VIA = {"ai": True, "people": False}


def _page(
    request: Request,
    page: AdminPage,
    session: SessionDep,
    form: dict[str, str],
    p: int,
    verified: audit.VerifyReport | None,
) -> Response:
    via = choice(form["via"], "via", frozenset(VIA))
    where = audit_repo.AuditFilter(
        action=form["action"] or None,
        entity_type=form["entity_type"] or None,
        entity_id=form["entity_id"] or None,
        actor=form["actor"] or None,
        via_ai=VIA[via] if via else None,
        since=day_start(optional_date(form["date_from"], "date_from")),
        until=day_after(optional_date(form["date_to"], "date_to")),
    )
    entries, total = audit_repo.list_entries(
        session, page.ctx, where, limit=PAGE_SIZE, offset=(p - 1) * PAGE_SIZE
    )
    return render(
        request,
        "audit.html",
        page,
        title="Audit log",
        section="audit",
        entries=entries,
        paging=Paging(p, total),
        actions=audit_repo.action_names(session, page.ctx),
        form=form,
        query=urlencode(form),
        verified=verified,
        chain=audit.company_chain(page.ctx.company_id),
    )


@router.get("/audit")
def audit_log(
    request: Request,
    page: Auditor,
    session: SessionDep,
    action: Field = "",
    entity_type: Field = "",
    entity_id: Field = "",
    actor: Field = "",
    via: Field = "",
    date_from: Field = "",
    date_to: Field = "",
    p: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    """The company's audit entries, newest first, filtered."""
    form = {
        "action": action,
        "entity_type": entity_type,
        "entity_id": entity_id,
        "actor": actor,
        "via": via,
        "date_from": date_from,
        "date_to": date_to,
    }
    return _page(request, page, session, form, p, None)


@router.post("/audit/verify", dependencies=[CsrfChecked])
@reads_only
def verify_now(request: Request, page: Auditor, session: SessionDep) -> Response:
    """Recompute the company's hash chain now and show the result above the log."""
    report = audit.verify(session, {audit.company_chain(page.ctx.company_id)})
    empty: dict[str, Any] = dict.fromkeys(
        ("action", "entity_type", "entity_id", "actor", "via", "date_from", "date_to"), ""
    )
    return _page(request, page, session, empty, 1, report)
