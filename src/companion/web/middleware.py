"""Pure ASGI middleware: request ids and access logs, the body size limit, JSON nesting.

Pure ASGI (not ``BaseHTTPMiddleware``) so bodies stream through untouched and context
variables set here are seen by the endpoint.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import Mapping
from typing import Any

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from companion.errors import BadRequest, CompanionError, PayloadTooLarge
from companion.logging import log_request, request_id_var

log = logging.getLogger(__name__)

REQUEST_ID_HEADER = "x-request-id"
# A client's id is kept when it is short and plain; anything else is replaced.
_SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:@/+=-]{1,128}$")
_DIGITS = re.compile(r"[0-9]+")


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


def request_id_of(scope: Scope) -> str | None:
    """The id this request was given by ``RequestContextMiddleware``."""
    state = scope.get("state") or {}
    value = state.get("request_id")
    return value if isinstance(value, str) else None


async def send_json_error(send: Send, error: CompanionError, *, request_id: str | None) -> None:
    """Answer with the error envelope straight from middleware (no app behind it)."""
    body = json.dumps(error.to_dict()).encode()
    raw = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    if request_id:
        raw.append((REQUEST_ID_HEADER.encode(), request_id.encode()))
    await send({"type": "http.response.start", "status": error.status_code, "headers": raw})
    await send({"type": "http.response.body", "body": body})


class RequestContextMiddleware:
    """Gives each request an id, returns it, logs one access line, and is the last resort.

    An exception that escapes every handler is logged here with its traceback and answered
    with a bare 500 envelope: this is the process boundary of a request.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = _header(scope, REQUEST_ID_HEADER.encode())
        request_id = incoming if incoming and _SANE_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        state: dict[str, Any] = scope.setdefault("state", {})
        state["request_id"] = request_id
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                headers = [
                    (k, v)
                    for k, v in message.get("headers", [])
                    if bytes(k).lower() != REQUEST_ID_HEADER.encode()
                ]
                headers.append((REQUEST_ID_HEADER.encode(), request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:  # the request's process boundary: log it, answer 500, carry on
            log.exception(
                "unhandled error while serving %s %s",
                scope["method"],
                scope["path"],
                extra={"request_id": request_id},
            )
            if not response_started:
                await send_json_error(send, internal_error(request_id), request_id=request_id)
            status = 500
        finally:
            ctx = state.get("context")
            log_request(
                method=scope["method"],
                path=scope["path"],
                status=status,
                duration_ms=(time.perf_counter() - started) * 1000,
                request_id=request_id,
                user=getattr(ctx, "username", None),
                company=getattr(ctx, "company_slug", None),
            )
            request_id_var.reset(token)


def internal_error(request_id: str | None) -> CompanionError:
    """The 500 answer: no detail of what went wrong, only the id to find it in the log."""
    return CompanionError(
        "An unexpected error occurred; it has been logged"
        + (f" with request id {request_id}" if request_id else ""),
        details={"request_id": request_id} if request_id else {},
    )


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` when a streamed body passes the limit.

    An ``HTTPException`` so that FastAPI's body parsing lets it through unchanged (it turns
    other exceptions into a 400) and the app's handler renders the 413 envelope.
    """

    def __init__(self, limit: int) -> None:
        super().__init__(status_code=413, detail=_too_large(limit).message)
        self.limit = limit


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"The request body is larger than the limit of {limit} bytes",
        details={"max_body_bytes": limit},
    )


class BodySizeLimitMiddleware:
    """Refuses bodies over ``max_body_bytes``: by Content-Length up front, else while streaming.

    ``path_limits`` gives exact paths (e.g. the knowledge upload) a limit of their own,
    counted the same way; every other path keeps ``max_body_bytes``.
    """

    def __init__(
        self,
        app: ASGIApp,
        max_body_bytes: int,
        path_limits: Mapping[str, int] | None = None,
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.path_limits = {_plain(path): limit for path, limit in (path_limits or {}).items()}

    def limit_for(self, scope: Scope) -> int:
        """The body limit of this request's path."""
        return self.path_limits.get(_plain(str(scope.get("path", ""))), self.max_body_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope)
        declared = _header(scope, b"content-length")
        if declared is not None:
            if not _DIGITS.fullmatch(declared.strip()):
                await send_json_error(send, _bad_length(), request_id=request_id_of(scope))
                return
            # More than 18 digits is over any limit, and too long to convert cheaply.
            if len(declared.strip()) > 18 or int(declared) > limit:
                await send_json_error(send, _too_large(limit), request_id=request_id_of(scope))
                return
        received = 0
        response_started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge:
            # Read outside the app's handlers (e.g. by middleware): answer here if we still can.
            if response_started:
                raise
            await send_json_error(send, _too_large(limit), request_id=request_id_of(scope))


# Deeper JSON is refused before any parser recurses into it: a request's documents are a few
# levels deep, and json.loads of 100,000 nested brackets runs at the interpreter's recursion
# limit, where any finalizer the garbage collector runs meanwhile fails.
MAX_JSON_DEPTH = 64
_JSON_TOKENS = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)


class JsonNestedTooDeep(BadRequest):
    """A JSON body nested deeper than MAX_JSON_DEPTH (answered like malformed JSON)."""

    code = "malformed_json"


def json_depth_exceeds(body: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether brackets outside strings nest deeper than ``limit`` (no recursion, no parse)."""
    if body.count(b"[") + body.count(b"{") <= limit:
        return False
    depth = 0
    for match in _JSON_TOKENS.finditer(body):
        token = match.group()
        if token in (b"[", b"{"):
            depth += 1
            if depth > limit:
                return True
        elif token in (b"]", b"}"):
            depth -= 1
    return False


class JsonDepthLimitMiddleware:
    """Refuses JSON bodies nested deeper than ``max_depth`` with 400 ``malformed_json``.

    Sits inside the body size limit, so the body it reads whole is already bounded; the
    app then reads the same body from a replay.
    """

    def __init__(self, app: ASGIApp, max_depth: int = MAX_JSON_DEPTH) -> None:
        self.app = app
        self.max_depth = max_depth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        content_type = (_header(scope, b"content-type") or "").split(";")[0].strip().lower()
        if scope["type"] != "http" or not (
            content_type == "application/json" or content_type.endswith("+json")
        ):
            await self.app(scope, receive, send)
            return
        parts: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            parts.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(parts)
        if json_depth_exceeds(body, self.max_depth):
            error = JsonNestedTooDeep(
                f"The request body is nested deeper than {self.max_depth} levels",
                details={"max_depth": self.max_depth},
            )
            await send_json_error(send, error, request_id=request_id_of(scope))
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


def _plain(path: str) -> str:
    """A path without its trailing slash, so "/x/" gets the same limit as "/x"."""
    return path.rstrip("/") or "/"


def _bad_length() -> CompanionError:
    return BadRequest(
        "The Content-Length header is not a number", details={"reason": "bad_content_length"}
    )
