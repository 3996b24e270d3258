"""The error envelope for every kind of error, and route introspection (no database)."""

from __future__ import annotations

from typing import Annotated

import pytest
from fastapi import APIRouter, Depends, FastAPI, HTTPException
from pydantic import BaseModel, ConfigDict
from starlette.testclient import TestClient

from companion import errors
from companion.tenancy.context import RequestContext
from companion.web.deps import RequirePermission, require
from companion.web.errors import install_error_handlers
from companion.web.introspect import api_routes
from companion.web.middleware import RequestContextMiddleware


class Thing(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    count: int


def _app() -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)
    app.add_middleware(RequestContextMiddleware)

    @app.get("/raise/{name}")
    def raise_(name: str) -> None:
        error_class = getattr(errors, name)
        raise error_class(f"{name} happened", details={"why": name})

    @app.get("/http/{status}")
    def http_(status: int) -> None:
        raise HTTPException(status_code=status, detail=f"custom {status}")

    @app.post("/things")
    def things(thing: Thing) -> Thing:
        return thing

    return app


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(_app())


@pytest.mark.parametrize(
    ("name", "status", "code"),
    [
        ("BadRequest", 400, "bad_request"),
        ("ValidationFailed", 422, "validation_failed"),
        ("BusinessRuleViolation", 422, "business_rule_violation"),
        ("NotAuthenticated", 401, "not_authenticated"),
        ("PermissionDenied", 403, "permission_denied"),
        ("NotFound", 404, "not_found"),
        ("Conflict", 409, "conflict"),
        ("InvalidState", 409, "invalid_state"),
        ("RateLimited", 429, "rate_limited"),
        ("ServiceUnavailable", 503, "service_unavailable"),
        ("DatabaseNotMigrated", 503, "database_not_migrated"),
    ],
)
def test_companion_errors_render_with_their_status(
    client: TestClient, name: str, status: int, code: str
) -> None:
    response = client.get(f"/raise/{name}")
    assert response.status_code == status
    assert response.json() == {
        "error": {"code": code, "message": f"{name} happened", "details": {"why": name}}
    }
    assert response.headers["x-request-id"]


def test_http_exceptions_keep_their_message_and_status(client: TestClient) -> None:
    response = client.get("/http/404")
    assert response.status_code == 404
    assert response.json()["error"] == {"code": "not_found", "message": "custom 404", "details": {}}
    teapot = client.get("/http/418")
    assert (teapot.status_code, teapot.json()["error"]["code"]) == (418, "http_418")
    unknown = client.get("/no/such/route")
    assert unknown.json()["error"]["message"] == "No such endpoint: GET /no/such/route"


def test_validation_errors_list_fields_without_inputs(client: TestClient) -> None:
    response = client.post("/things", json={"name": "n", "count": "many", "extra": "SECRET"})
    assert response.status_code == 422
    details = response.json()["error"]["details"]
    assert details["count"] == 2
    assert {tuple(e["loc"]) for e in details["errors"]} == {("body", "count"), ("body", "extra")}
    assert "SECRET" not in response.text and "many" not in response.text


def test_thousands_of_errors_are_cut_short(client: TestClient) -> None:
    app = _app()

    @app.post("/many")
    def many(items: list[int]) -> int:
        return len(items)

    response = TestClient(app).post("/many", json=["x"] * 5000)
    details = response.json()["error"]["details"]
    assert details["count"] == 5000
    assert len(details["errors"]) == 50


def test_routes_expose_their_declared_permissions() -> None:
    router = APIRouter()

    @router.get("/a")
    def a(ctx: Annotated[RequestContext, Depends(require("finance.read"))]) -> None: ...

    @router.get("/b", dependencies=[Depends(require("audit.read"))])
    def b() -> None: ...

    app = FastAPI()
    app.include_router(router, prefix="/api/v1", dependencies=[Depends(require("ai.use"))])
    routes = {r.path: r for r in api_routes(app)}
    assert routes["/api/v1/a"].permissions == {"finance.read", "ai.use"}
    assert routes["/api/v1/b"].permissions == {"audit.read", "ai.use"}
    assert routes["/api/v1/a"].needs_caller


def test_require_refuses_a_permission_that_does_not_exist() -> None:
    with pytest.raises(ValueError, match="finance.raed"):
        require("finance.raed")
    assert repr(require("finance.read")) == "require('finance.read')"
    assert isinstance(require("finance.read"), RequirePermission)
