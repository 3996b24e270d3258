"""The overview: today's chat turns and how they ended, latency, model health, open actions."""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from companion.assistant import admin_repository as admin_repo
from companion.auth import service as auth_service
from companion.errors import PermissionDenied
from companion.kit.db import utcnow
from companion.web.admin.base import (
    SECTIONS,
    SECURITY_HEADERS,
    AdminPage,
    AdminRoute,
    CompanySlug,
    page_for,
    render,
    signed_in_user,
)
from companion.web.ai_status import ai_status
from companion.web.deps import ContainerDep, SessionDep

router = APIRouter(prefix="/admin/{company}", route_class=AdminRoute, include_in_schema=False)
Overview = Annotated[AdminPage, page_for("ai.admin")]

# How a recorded answer is counted. Refused: declined for lack of permission. Fallback: no
# skill could answer (a clarifying question, or out of scope). Answered: everything else.
REFUSED_SKILLS = frozenset({"denied"})
FALLBACK_SKILLS = frozenset({"clarify"})
FALLBACK_INTENTS = frozenset({"out_of_scope"})


@dataclass(frozen=True)
class TurnSummary:
    """Today's answers counted by outcome, and their latency."""

    turns: int
    answered: int
    refused: int
    fallback: int
    p50_ms: float | None
    p95_ms: float | None
    by_skill: list[tuple[str, int]]


def percentile(values: list[float], q: float) -> float | None:
    """The nearest-rank ``q`` percentile (None for no values)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def outcome(intent: str | None, skill: str | None) -> str:
    """``answered``, ``refused`` or ``fallback`` for one recorded answer."""
    if skill in REFUSED_SKILLS:
        return "refused"
    if skill in FALLBACK_SKILLS or intent in FALLBACK_INTENTS:
        return "fallback"
    return "answered"


def summarise(turns: list[admin_repo.TurnFacts]) -> TurnSummary:
    """Counts and latency percentiles of ``turns``."""
    outcomes = Counter(outcome(t.intent, t.skill) for t in turns)
    latencies = [t.latency_ms for t in turns if t.latency_ms is not None]
    skills = Counter(t.skill or "none" for t in turns)
    return TurnSummary(
        turns=len(turns),
        answered=outcomes["answered"],
        refused=outcomes["refused"],
        fallback=outcomes["fallback"],
        p50_ms=percentile(latencies, 50),
        p95_ms=percentile(latencies, 95),
        by_skill=sorted(skills.items(), key=lambda kv: (-kv[1], kv[0])),
    )


@router.get("/")
def company_home(
    request: Request, company: CompanySlug, session: SessionDep, container: ContainerDep
) -> Response:
    """The first section the caller may open in this company."""
    user, _ = signed_in_user(request, session, container)
    ctx = auth_service.context_for_user(session, user.username, company)
    for key, _, permission in SECTIONS:
        if ctx.can(permission):
            return RedirectResponse(f"/admin/{company}/{key}", 303, headers=SECURITY_HEADERS)
    raise PermissionDenied(
        "Your roles here open no part of the command center (it needs ai.admin, kb.manage "
        "or audit.read)",
        details={"permission": "ai.admin"},
    )


@router.get("/overview")
def overview(
    request: Request, page: Overview, session: SessionDep, container: ContainerDep
) -> Response:
    """Today's turns (UTC day of the server's clock), model health, open confirmations."""
    now = container.clock.now()
    # Messages are stamped by the database layer's wall clock (kit.db.utcnow), not by the
    # business clock (COMPANION_TODAY), so "today" is the wall clock's UTC day too.
    start = dt.datetime.combine(utcnow().date(), dt.time(), tzinfo=dt.UTC)
    summary = summarise(
        admin_repo.turns_between(session, page.ctx, start, start + dt.timedelta(days=1))
    )
    return render(
        request,
        "overview.html",
        page,
        title="Overview",
        section="overview",
        day=start.date(),
        summary=summary,
        status=ai_status(container.llm(), page.ctx.company_slug),
        open_actions=admin_repo.count_open_actions(session, page.ctx, now),
    )
