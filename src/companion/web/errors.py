"""The one place errors become HTTP answers: ``{"error": {"code", "message", "details"}}``."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from companion.errors import (
    BadRequest,
    CompanionError,
    NotAuthenticated,
    UnsupportedMediaType,
    ValidationFailed,
)
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


def render(
    error: CompanionError, request: Request, headers: dict[str, str] | None = None
) -> JSONResponse:
    """The envelope for ``error`` with its status."""
    headers = dict(headers or {})
    if isinstance(error, NotAuthenticated):
        headers.setdefault("WWW-Authenticate", "Bearer")
    request_id = request_id_of(request.scope)
    if request_id:
        headers[REQUEST_ID_HEADER] = request_id
    return JSONResponse(error.to_dict(), status_code=error.status_code, headers=headers)


async def companion_error_handler(request: Request, exc: Exception) -> JSONResponse:
    """Errors raised on purpose carry their status and code."""
    assert isinstance(exc, CompanionError)
    if exc.status_code >= 500:
        log.warning("%s: %s", exc.code, exc.message, extra={"details": exc.details})
    return render(exc, request)


def _is_json(request: Request) -> bool:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    return content_type == "application/json" or content_type.endswith("+json")


def _field_errors(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # The offending input is left out on purpose: it may be large or secret (a password).
    return [
        {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
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
    error = HttpError(exc.status_code, message, details)
    return render(error, request, headers=dict(exc.headers or {}))


async def unhandled_error_handler(request: Request, exc: Exception) -> JSONResponse:
    """The last resort: 500 with no trace in the body; the trace goes to the log."""
    log.error("unhandled error", exc_info=exc)
    return render(internal_error(request_id_of(request.scope)), request)


def install_error_handlers(app: FastAPI) -> None:
    """Register every handler on ``app``."""
    app.add_exception_handler(CompanionError, companion_error_handler)
    app.add_exception_handler(RequestValidationError, validation_error_handler)
    app.add_exception_handler(HTTPException, http_error_handler)
    app.add_exception_handler(Exception, unhandled_error_handler)
