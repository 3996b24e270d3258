"""The one place errors become HTTP answers: ``{"error": {"code", "message", "details"}}``."""

from __future__ import annotations

import json
import logging
import math
from http import HTTPStatus
from typing import Any

import fastapi.routing
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException

from companion.errors import (
    BadRequest,
    CompanionError,
    DatabaseBusy,
    DatabaseUnavailable,
    NotAuthenticated,
    UnsupportedMediaType,
    ValidationFailed,
)
from companion.kit.db import is_lock_timeout
from companion.web.middleware import (
    REQUEST_ID_HEADER,
    BodyTooLarge,
    internal_error,
    request_id_of,
)

log = logging.getLogger(__name__)

# Codes for errors Starlette raises itself (routing, methods, body limit).
_HTTP_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}
MAX_ERRORS_SHOWN = 50  # a huge invalid body must not become a huge error answer
# What pydantic puts before a validator's own words ("Value error, must not be blank").
_PYDANTIC_PREFIXES = ("Value error, ", "Assertion failed, ")
# Said instead of a message that carries Python (a validator's exception repr).
_PLAIN_MESSAGES = {
    "value_error": "is not valid",
    "decimal_parsing": "must be a number",
    "int_parsing": "must be a whole number",
    "float_parsing": "must be a number",
}
# Another writer held SQLite's lock past the busy timeout; its transaction is usually short.
DATABASE_RETRY_AFTER_S = 2
# A lost connection: the pool drops it (and pings the others) and opens a new one at once.
DISCONNECT_RETRY_AFTER_S = 1
# SQLSTATEs of a connection the server ended: class 08 (connection exception), and an
# administrator's or the server's shutdown, crash or recovery (pg_terminate_backend: 57P01).
_PG_GONE = frozenset({"57P01", "57P02", "57P03"})


class MalformedJson(BadRequest):
    """The body could not be parsed as JSON at all."""

    code = "malformed_json"


class HttpError(CompanionError):
    """An error Starlette raised (routing, methods), with its status."""

    def __init__(
        self, status_code: int, message: str, details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message, details=details)
        self.status_code = status_code
        self.code = _HTTP_CODES.get(status_code, f"http_{status_code}")


class EnvelopeResponse(JSONResponse):
    """JSON that stays JSON when a message echoes text UTF-8 cannot carry (a lone surrogate)."""

    def render(self, content: Any) -> bytes:
        try:
            return super().render(content)
        except UnicodeEncodeError:
            # Escaped as \ud800, the answer is still valid JSON; failing here would be a 500.
            return json.dumps(content, ensure_ascii=True, separators=(",", ":")).encode("ascii")


def render(
    error: CompanionError, request: Request, headers: dict[str, str] | None = None
) -> JSONResponse:
    """The envelope for ``error`` with its status."""
    headers = dict(headers or {})
    if isinstance(error, NotAuthenticated):
        headers.setdefault("WWW-Authenticate", "Bearer")
    retry_after = error.details.get("retry_after")
    if isinstance(retry_after, int | float) and not isinstance(retry_after, bool):
        headers.setdefault("Retry-After", str(max(1, math.ceil(retry_after))))
    request_id = request_id_of(request.scope)
    if request_id:
        headers[REQUEST_ID_HEADER] = request_id
    return EnvelopeResponse(error.to_dict(), status_code=error.status_code, headers=headers)


async def companion_error_handler(request: Request, exc: Exception) -> JSONResponse:
    """Errors raised on purpose carry their status and code."""
    assert isinstance(exc, CompanionError)
    if exc.status_code >= 500:
        log.warning("%s: %s", exc.code, exc.message, extra={"details": exc.details})
    return render(exc, request)


def _is_json(request: Request) -> bool:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    return content_type == "application/json" or content_type.endswith("+json")


def human_message(msg: str, kind: str) -> str:
    """A validation message as a sentence: no pydantic prefix, no Python class names."""
    for prefix in _PYDANTIC_PREFIXES:
        msg = msg.removeprefix(prefix)
    if "<class" in msg or "Traceback" in msg:
        return _PLAIN_MESSAGES.get(kind, "is not valid")
    return msg


def _field_errors(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # The offending input is left out on purpose: it may be large or secret (a password).
    return [
        {
            "loc": list(e.get("loc", ())),
            "msg": human_message(str(e.get("msg", "")), str(e.get("type", ""))),
            "type": e.get("type", ""),
        }
        for e in errors[:MAX_ERRORS_SHOWN]
    ]


async def validation_error_handler(request: Request, exc: Exception) -> JSONResponse:
    """422 with each field's error; 400 ``malformed_json``; 415 for a body that is not JSON."""
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    json_errors = [e for e in errors if e.get("type") == "json_invalid"]
    if json_errors:
        loc, ctx = list(json_errors[0].get("loc", ())), json_errors[0].get("ctx") or {}
        error = MalformedJson(
            "The request body is not valid JSON",
            details={"position": loc[1] if len(loc) > 1 else None, "error": ctx.get("error")},
        )
        return render(error, request)
    body_whole = [e for e in errors if tuple(e.get("loc", ())) == ("body",)]
    if body_whole and request.headers.get("content-length", "0") != "0" and not _is_json(request):
        return render(
            UnsupportedMediaType(
                "Send the request body as JSON (Content-Type: application/json)",
                details={"content_type": request.headers.get("content-type")},
            ),
            request,
        )
    return render(
        ValidationFailed(
            "The request is not valid",
            details={"errors": _field_errors(errors), "count": len(errors)},
        ),
        request,
    )


async def http_error_handler(request: Request, exc: Exception) -> JSONResponse:
    """Starlette's own errors (unknown route, wrong method, body limit) in the envelope."""
    assert isinstance(exc, HTTPException)
    path = request.url.path[:200]
    details: dict[str, Any] = {}
    default_detail = (
        exc.status_code in (404, 405) and exc.detail == HTTPStatus(exc.status_code).phrase
    )
    if exc.status_code == 404 and default_detail:  # the router found no route
        message = f"No such endpoint: {request.method} {path}"
    elif exc.status_code == 405 and default_detail:
        message = f"{request.method} is not allowed on {path}"
    else:
        message = str(exc.detail)
    if isinstance(exc, BodyTooLarge):
        details["max_body_bytes"] = exc.limit
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers["Allow"] = ", ".join(allowed_methods(request)) or headers.get("Allow", "")
    error = HttpError(exc.status_code, message, details)
    return render(error, request, headers=headers)


def allowed_methods(request: Request) -> list[str]:
    """Every method the routes of the request's path serve.

    Starlette's 405 names only the methods of the first route matching the path, and a
    path often has several (``GET`` and ``POST`` as two routes). Of the path templates
    that match, the one with the fewest parameters is the path's (``/examples/bulk``, not
    ``/examples/{example_id}``).
    """
    routes: Any = request.app.routes
    iter_route_contexts = getattr(fastapi.routing, "iter_route_contexts", None)
    if iter_route_contexts is not None:  # newer FastAPI keeps included routers lazily
        routes = iter_route_contexts(routes)
    path = request.scope.get("path", "")
    by_template: dict[str, set[str]] = {}
    for route in routes:
        regex, template = getattr(route, "path_regex", None), getattr(route, "path_format", "")
        if regex is not None and regex.match(path):
            by_template.setdefault(template, set()).update(getattr(route, "methods", None) or ())
    if not by_template:
        return []
    template = min(by_template, key=lambda t: t.count("{"))
    return sorted(by_template[template])


def database_busy(request_path: str) -> DatabaseBusy:
    """The 503 for a lock not had within the busy timeout."""
    return DatabaseBusy(
        "The database is busy with another change; try again in a moment",
        details={"retry_after": DATABASE_RETRY_AFTER_S, "path": request_path[:200]},
    )


def is_disconnect(error: BaseException) -> bool:
    """Whether ``error`` is the database connection lost, not a fault of the request.

    SQLAlchemy marks the errors it recognises as a dead connection (and invalidates that
    connection, so the pool opens a new one); PostgreSQL's SQLSTATE says so for the rest.
    """
    if not isinstance(error, DBAPIError):
        return False
    if error.connection_invalidated:
        return True
    state = str(getattr(error.orig, "sqlstate", None) or "")
    return state.startswith("08") or state in _PG_GONE


def database_unavailable(request_path: str) -> DatabaseUnavailable:
    """The 503 for a request whose database connection was lost under it."""
    return DatabaseUnavailable(
        "The connection to the database was lost; try again in a moment",
        details={"retry_after": DISCONNECT_RETRY_AFTER_S, "path": request_path[:200]},
    )


async def database_error_handler(request: Request, exc: Exception) -> JSONResponse:
    """A lock not had in time or a lost connection is a 503 with Retry-After; else a 500."""
    assert isinstance(exc, DBAPIError)
    if is_lock_timeout(exc):
        log.warning("database_busy", extra={"path": request.url.path[:200]})
        return render(database_busy(request.url.path), request)
    if is_disconnect(exc):
        # No traceback: nothing to fix in the code; the pool has already dropped the connection.
        log.warning(
            "database_unavailable",
            extra={"path": request.url.path[:200], "error": str(exc.orig)[:200]},
        )
        return render(database_unavailable(request.url.path), request)
    return await unhandled_error_handler(request, exc)


async def pool_timeout_handler(request: Request, exc: Exception) -> JSONResponse:
    """No database connection was free in time (the pool's timeout): a 503, not a fault."""
    log.warning("database_pool_exhausted", extra={"path": request.url.path[:200]})
    return render(database_busy(request.url.path), request)


async def unhandled_error_handler(request: Request, exc: Exception) -> JSONResponse:
    """The last resort: 500 with no trace in the body; the trace goes to the log."""
    log.error("unhandled error", exc_info=exc)
    return render(internal_error(request_id_of(request.scope)), request)


def install_error_handlers(app: FastAPI) -> None:
    """Register every handler on ``app``."""
    app.add_exception_handler(CompanionError, companion_error_handler)
    app.add_exception_handler(RequestValidationError, validation_error_handler)
    app.add_exception_handler(HTTPException, http_error_handler)
    app.add_exception_handler(DBAPIError, database_error_handler)
    app.add_exception_handler(PoolTimeout, pool_timeout_handler)
    app.add_exception_handler(Exception, unhandled_error_handler)
