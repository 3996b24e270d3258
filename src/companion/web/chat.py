"""The assistant over HTTP: one chat turn (whole or streamed), and the caller's conversations."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path
from fastapi.sse import EventSourceResponse, format_sse_event
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.responses import StreamingResponse

from companion.assistant import repository
from companion.assistant.learning import feedback as learning_feedback
from companion.assistant.learning.schemas import FeedbackIn, FeedbackOut
from companion.assistant.progress import Progress
from companion.assistant.schemas import (
    ChatRequest,
    ChatResponse,
    ConversationDetail,
    ConversationOut,
)
from companion.assistant.service import conversation_detail, conversation_out
from companion.bootstrap import Container
from companion.errors import CompanionError, DatabaseBusy
from companion.kit.db import is_lock_timeout
from companion.kit.fields import Text
from companion.llm.admission import acting_for
from companion.tenancy.context import RequestContext
from companion.web.deps import ContainerDep, Page, PageDep, SessionDep, require, writes_later
from companion.web.errors import database_unavailable, is_disconnect

log = logging.getLogger(__name__)
router = APIRouter(prefix="/ai", tags=["assistant"])
STREAM_PATH = "/api/v1/ai/chat/stream"
ChatUser = Annotated[RequestContext, Depends(require("ai.use"))]
ConversationId = Annotated[Text, Path(min_length=1, max_length=64)]
MessageId = Annotated[Text, Path(min_length=1, max_length=64)]


@router.post("/chat", response_model=ChatResponse, response_model_exclude_none=False)
@writes_later
def chat(
    body: ChatRequest, session: SessionDep, ctx: ChatUser, container: ContainerDep
) -> ChatResponse:
    """Ask a question in plain language; the answer carries its figures and their source."""
    # The session begins as a reader (``writes_later``): the turn reads, then records itself
    # in a short write transaction that the request commits (``Assistant.turn``).
    with acting_for(ctx.user_id):  # model calls count against the caller's share
        return container.assistant().turn(session, ctx, body)


@dataclass(frozen=True)
class StreamedTurn:
    """A chat request checked before the stream opens, so that its errors keep their status."""

    body: ChatRequest
    ctx: RequestContext
    container: Container


def checked_turn(
    body: ChatRequest, session: SessionDep, ctx: ChatUser, container: ContainerDep
) -> StreamedTurn:
    """422/413 for a bad message, 404 for an unknown conversation, 429 past a rate limit
    or a budget's hard cap: plain JSON errors with their status, before the stream opens."""
    assistant = container.assistant()
    assistant.validated(body.message)
    if assistant.usage is not None:
        assistant.usage.check(session, ctx)
    if body.conversation_id:
        repository.get_conversation(session, ctx, body.conversation_id)
    return StreamedTurn(body=body, ctx=ctx, container=container)


class EventStream(StreamingResponse):
    """Declares a route's answer as ``text/event-stream`` in the OpenAPI (and nothing else)."""

    media_type = "text/event-stream"


# One SSE event as OpenAPI 3.2 describes them (what FastAPI declares for its own SSE routes).
_SSE_EVENT = {
    "type": "object",
    "required": ["event", "data"],
    "properties": {
        "event": {"type": "string", "enum": ["status", "token", "final", "error"]},
        "data": {"type": "string", "contentMediaType": "application/json"},
    },
}


@router.post(
    "/chat/stream",
    # Not response_class=EventSourceResponse: that makes FastAPI expect a generator, which
    # would keep the request's session open for the whole stream. EventStream only names
    # the media type, so the OpenAPI no longer offers a JSON answer.
    response_class=EventStream,
    response_model=None,
    responses={
        200: {
            "content": {
                "text/event-stream": {
                    "schema": {"type": "string"},
                    "itemSchema": _SSE_EVENT,
                }
            },
            "description": "Server-sent events: `status` for each step (understanding, "
            "choosing_tool, querying, retrieving, generating, recording), `token` while a "
            "model writes (provisional text), then one `final` event with the chat response "
            "(the same object `/ai/chat` returns), or one `error` event with the JSON error "
            "envelope. Closing the connection stops the model.",
        }
    },
)
@writes_later
async def chat_stream(turn: Annotated[StreamedTurn, Depends(checked_turn)]) -> EventSourceResponse:
    """Ask a question and watch the answer being made; the `final` event is authoritative."""
    # Returned, not yielded from here: the request's own session (authentication) is closed
    # when this function returns, before the stream, so it holds no connection or lock.
    return EventSourceResponse(
        _events(turn), headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    )


async def _events(turn: StreamedTurn) -> AsyncIterator[bytes]:
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[str, dict[str, Any]]] = asyncio.Queue()

    def emit(kind: str, data: dict[str, Any]) -> None:
        loop.call_soon_threadsafe(queue.put_nowait, (kind, data))

    progress = Progress(emit)
    # The turn runs in a worker thread with its own unit of work; it finishes and is recorded
    # even when the client goes away (the model is stopped, the answer is the one without it).
    loop.run_in_executor(None, _run_turn, turn, progress, emit)
    try:
        while True:
            kind, data = await queue.get()
            yield format_sse_event(event=kind, data_str=json.dumps(data))
            if kind in ("final", "error"):
                return
    finally:
        progress.cancel()


def _run_turn(turn: StreamedTurn, progress: Progress, emit: Any) -> None:
    """One chat turn in its own session; its outcome goes out as an event.

    The turn reads, then records itself in a short write transaction (``Assistant.turn``),
    committed here.
    """
    container = turn.container
    try:
        with container.session_factory() as session:
            try:
                with acting_for(turn.ctx.user_id):
                    response = container.assistant().turn(session, turn.ctx, turn.body, progress)
                session.commit()
            except BaseException:
                session.rollback()
                raise
    except CompanionError as exc:
        emit("error", exc.to_dict())
    except Exception as exc:  # the thread's boundary: log the trace, tell the client plainly
        if is_lock_timeout(exc) or isinstance(exc, PoolTimeout):
            log.warning("chat.database_busy")
            busy = DatabaseBusy("The database is busy; try again in a moment")
            emit("error", busy.to_dict())
            return
        if is_disconnect(exc):  # the connection was lost under the turn: as /ai/chat says it
            log.warning("chat.database_unavailable")
            emit("error", database_unavailable(STREAM_PATH).to_dict())
            return
        log.exception("chat.stream_failed")
        emit(
            "error",
            {"error": {"code": "internal_error", "message": "The answer failed", "details": {}}},
        )
    else:
        emit("final", response.model_dump(mode="json"))


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


@router.post("/messages/{message_id}/feedback", response_model=FeedbackOut)
def give_feedback(
    message_id: MessageId, body: FeedbackIn, session: SessionDep, ctx: ChatUser
) -> FeedbackOut:
    """Thumbs up/down, a 1-5 score and an optional correction on one of the caller's answers
    (another's answer is a 404); a correction becomes a training example in review."""
    return learning_feedback.give_feedback(session, ctx, message_id, body)
