"""What each API route needs: a caller, and which permissions (OpenAPI and test sweeps)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import fastapi.routing
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from companion.web.deps import RequirePermission, get_context
from companion.web.figures import RequireFigure

API_PREFIX = "/api/v1"


@dataclass(frozen=True)
class ApiRoute:
    """One API operation as mounted: full path, methods and resolved dependencies."""

    path: str
    methods: frozenset[str]
    name: str
    dependant: Dependant

    @property
    def path_params(self) -> dict[str, Any]:
        """Each path parameter's name and declared Python type."""
        return {p.name: p.field_info.annotation for p in self.dependant.path_params}

    @property
    def permissions(self) -> frozenset[str]:
        """The permissions the route declares with ``Depends(require(...))``."""
        return frozenset(
            d.call.permission
            for d in iter_dependants(self.dependant)
            if isinstance(d.call, RequirePermission)
        )

    @property
    def figures(self) -> frozenset[str]:
        """The figures the route serves, declared with ``Depends(require_figure(...))``."""
        return frozenset(
            d.call.figure
            for d in iter_dependants(self.dependant)
            if isinstance(d.call, RequireFigure)
        )

    @property
    def needs_caller(self) -> bool:
        """Whether the route resolves the caller's context (needs credentials)."""
        return any(d.call is get_context for d in iter_dependants(self.dependant))


def iter_dependants(dependant: Dependant) -> Iterator[Dependant]:
    """``dependant`` and every dependency below it, depth first."""
    yield dependant
    for sub in dependant.dependencies:
        yield from iter_dependants(sub)


def _mounted(app: FastAPI) -> Iterator[ApiRoute]:
    # Newer FastAPI keeps included routers lazily in ``app.routes``; older ones flatten them.
    iter_route_contexts = getattr(fastapi.routing, "iter_route_contexts", None)
    routes: Any = iter_route_contexts(app.routes) if iter_route_contexts else app.routes
    for route in routes:
        original = getattr(route, "original_route", route)
        if isinstance(original, APIRoute):
            yield ApiRoute(
                path=route.path_format,
                methods=frozenset(route.methods or ()),
                name=route.name,
                dependant=route.dependant,
            )


def api_routes(app: FastAPI, prefix: str = API_PREFIX) -> list[ApiRoute]:
    """Every API operation of ``app`` under ``prefix``, in registration order."""
    return [r for r in _mounted(app) if r.path.startswith(prefix + "/")]
