"""The assistant over HTTP: one chat turn, and the caller's conversations."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path

from companion.assistant import repository
from companion.assistant.schemas import (
    ChatRequest,
    ChatResponse,
    ConversationDetail,
    ConversationOut,
)
from companion.assistant.service import conversation_detail, conversation_out
from companion.tenancy.context import RequestContext
from companion.web.deps import ContainerDep, Page, PageDep, SessionDep, require

router = APIRouter(prefix="/ai", tags=["assistant"])
ChatUser = Annotated[RequestContext, Depends(require("ai.use"))]
ConversationId = Annotated[str, Path(min_length=1, max_length=64)]


@router.post("/chat", response_model=ChatResponse, response_model_exclude_none=False)
def chat(
    body: ChatRequest, session: SessionDep, ctx: ChatUser, container: ContainerDep
) -> ChatResponse:
    """Ask a question in plain language; the answer carries its figures and their source."""
    return container.assistant().turn(session, ctx, body)


@router.get("/conversations", response_model=Page[ConversationOut])
def list_conversations(session: SessionDep, ctx: ChatUser, page: PageDep) -> Page[ConversationOut]:
    """The caller's own conversations in this company, newest first."""
    rows, total = repository.list_conversations(session, ctx, limit=page.limit, offset=page.offset)
    return Page(
        items=[conversation_out(c) for c in rows],
        total=total,
        limit=page.limit,
        offset=page.offset,
    )


@router.get("/conversations/{conversation_id}", response_model=ConversationDetail)
def get_conversation(
    conversation_id: ConversationId, session: SessionDep, ctx: ChatUser
) -> ConversationDetail:
    """One of the caller's conversations with its messages in order."""
    return conversation_detail(session, repository.get_conversation(session, ctx, conversation_id))
