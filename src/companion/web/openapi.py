"""The OpenAPI document: FastAPI's, plus security, permissions and every error it can answer.

Each API operation documents the error statuses the app can give it, all with the one
envelope ``{"error": {"code", "message", "details"}}`` (``ErrorEnvelope``):

- every operation: 400 (a request refused as malformed), 422 (invalid parameters or body),
  429 (a rate limit or budget; Retry-After) and 503 (the database busy or not migrated);
- an operation with a path id or a body: 404 (no such record in the caller's company);
- an operation that changes something (POST, PUT, PATCH, DELETE): 409 (the record's state
  forbids it, or it conflicts with another);
- an operation with a body: 413 (larger than the route's limit) and 415 (not JSON, or not
  the upload type the route takes);
- an operation that needs a caller: 401 and 403.

``tests/e2e/test_openapi_fuzz.py`` holds the document to it: Schemathesis finds no
response the document does not describe.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from companion.tenancy.permissions import roles_granting
from companion.web.introspect import api_routes

SECURITY_SCHEMES: dict[str, Any] = {
    "bearerAuth": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "A token from POST /api/v1/auth/login",
    },
    "apiKeyAuth": {
        "type": "apiKey",
        "in": "header",
        "name": "X-Api-Key",
        "description": "An API key of one company (cmp_<prefix>_<secret>)",
    },
}

ERROR_ENVELOPE: dict[str, Any] = {
    "title": "ErrorEnvelope",
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "details"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "details": {"type": "object"},
            },
        }
    },
}

ERROR_DESCRIPTIONS: dict[str, str] = {
    "400": "The request is malformed (e.g. a body that is not valid JSON: `malformed_json`)",
    "401": "Missing or invalid credentials",
    "403": "No access to the company or the permission",
    "404": "No such record in the caller's company (another company's answers the same)",
    "409": "The record's state forbids the operation, or it conflicts with another",
    "413": "The body is larger than the route's limit (`details.max_body_bytes`)",
    "415": "The body is not of a type the route takes (JSON unless it says otherwise)",
    "422": "Invalid request: `details.errors` names each field and what is wrong",
    "429": "Too many requests (a rate limit or a budget); Retry-After says when to retry",
    "503": "The database is busy or not migrated, or a service is unavailable; Retry-After",
}
_RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before trying again",
        "schema": {"type": "integer", "minimum": 1},
    }
}
_WRITES = frozenset({"post", "put", "patch", "delete"})


def error_statuses(method: str, operation: dict[str, Any], *, needs_caller: bool) -> list[str]:
    """The error statuses ``operation`` can answer (see the module docstring)."""
    statuses = {"400", "422", "429", "503"}
    has_body = "requestBody" in operation
    has_path_id = any(p.get("in") == "path" for p in operation.get("parameters", []))
    if has_body or has_path_id:
        statuses.add("404")
    if method in _WRITES:
        statuses.add("409")
    if has_body:
        statuses |= {"413", "415"}
    if needs_caller:
        statuses |= {"401", "403"}
    return sorted(statuses)


def error_response(status: str, description: str | None = None) -> dict[str, Any]:
    """One documented error: its description and the envelope."""
    response: dict[str, Any] = {
        "description": description or ERROR_DESCRIPTIONS.get(status, "An error"),
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorEnvelope"}}},
    }
    if status in ("429", "503"):
        response["headers"] = _RETRY_AFTER
    return response


def build_openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document plus security schemes, permissions and every error response."""
    schema = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes
    )
    components = schema.setdefault("components", {})
    components["securitySchemes"] = SECURITY_SCHEMES
    components.setdefault("schemas", {})["ErrorEnvelope"] = ERROR_ENVELOPE
    for route in api_routes(app):
        path_item = schema["paths"].get(route.path, {})
        for method in route.methods:
            operation = path_item.get(method.lower())
            if operation is None:
                continue
            responses = operation.setdefault("responses", {})
            # A route's own error statuses (login's 401) get the envelope too.
            own_errors = {s for s in responses if s[:1] in ("4", "5")}
            for status in sorted(
                own_errors.union(
                    error_statuses(method.lower(), operation, needs_caller=route.needs_caller)
                )
            ):
                # A route's own words for a status stay; the body is always the envelope.
                own = responses.get(status, {}).get("description") if status != "422" else None
                responses[status] = error_response(status, own)
            if not route.needs_caller:
                continue
            operation["security"] = [{"bearerAuth": []}, {"apiKeyAuth": []}]
            permissions = sorted(route.permissions)
            if permissions:
                operation["x-permissions"] = permissions
                needs = "; ".join(
                    f"`{p}` (role {', '.join(roles_granting(p))})" for p in permissions
                )
                operation["description"] = (
                    operation.get("description", "") + f"\n\nRequires {needs}."
                ).strip()
    return schema
