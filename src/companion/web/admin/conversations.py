"""Conversations: every user's, searched and filtered; a transcript with what was understood."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Query, Request
from starlette.responses import Response

from companion.assistant import admin_repository as admin_repo
from companion.assistant import repository as chat_repo
from companion.web.admin.base import AdminPage, AdminRoute, page_for, render
from companion.web.admin.forms import PAGE_SIZE, Paging, choice, day_after, day_start, optional_date
from companion.web.deps import SessionDep

router = APIRouter(prefix="/admin/{company}", route_class=AdminRoute, include_in_schema=False)
Reviewer = Annotated[AdminPage, page_for("ai.admin")]
RATINGS = frozenset({"up", "down", "rated", "unrated"})
Field = Annotated[str, Query(max_length=64)]


@router.get("/conversations")
def conversations(
    request: Request,
    page: Reviewer,
    session: SessionDep,
    user: Field = "",
    intent: Field = "",
    skill: Field = "",
    rating: Field = "",
    date_from: Field = "",
    date_to: Field = "",
    q: Annotated[str, Query(max_length=200)] = "",
    p: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    """The company's conversations, filtered by user, intent, skill, rating, date and text."""
    intents, skills = admin_repo.used_values(session, page.ctx)
    form = {
        "user": user,
        "intent": intent,
        "skill": skill,
        "rating": rating,
        "date_from": date_from,
        "date_to": date_to,
        "q": q,
    }
    where = admin_repo.ConversationFilter(
        username=user.strip() or None,
        intent=intent or None,
        skill=skill or None,
        rating=choice(rating, "rating", RATINGS),
        since=day_start(optional_date(date_from, "date_from")),
        until=day_after(optional_date(date_to, "date_to")),
        text=q.strip() or None,
    )
    rows, total = admin_repo.search_conversations(
        session, page.ctx, where, limit=PAGE_SIZE, offset=(p - 1) * PAGE_SIZE
    )
    return render(
        request,
        "conversations.html",
        page,
        title="Conversations",
        section="conversations",
        rows=rows,
        paging=Paging(p, total),
        intents=intents,
        skills=skills,
        ratings=sorted(RATINGS),
        form=form,
        query=urlencode(form),
    )


@router.get("/conversations/{conversation_id}")
def transcript(
    request: Request,
    page: Reviewer,
    session: SessionDep,
    conversation_id: Annotated[str, Path(min_length=1, max_length=64)],
) -> Response:
    """One conversation's messages with intents, entities, skills, sources and ratings."""
    conversation, username = admin_repo.get_conversation(session, page.ctx, conversation_id)
    return render(
        request,
        "transcript.html",
        page,
        title="Conversation",
        section="conversations",
        conversation=conversation,
        username=username,
        messages=chat_repo.messages_of(session, conversation),
    )
