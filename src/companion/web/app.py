"""The FastAPI app factory: routers, error envelope, middleware, probes and OpenAPI."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware

from companion import __version__
from companion.auth.endpoints import router as auth_router
from companion.bootstrap import Container, bootstrap
from companion.config import get_settings
from companion.jobs.imports import chat as chat_imports
from companion.jobs.imports.endpoints import body_limits as import_body_limits
from companion.jobs.knowledge import BackgroundUploads
from companion.kit import migrate
from companion.knowledge.endpoints import body_limits
from companion.logging import configure_logging
from companion.web.admin import ADMIN_ROUTERS
from companion.web.admin import body_limits as admin_body_limits
from companion.web.deps import iso_query_dates
from companion.web.errors import install_error_handlers
from companion.web.health import router as health_router
from companion.web.introspect import API_PREFIX
from companion.web.metrics import AppMetrics, MetricsMiddleware
from companion.web.metrics import router as metrics_router
from companion.web.middleware import (
    BodySizeLimitMiddleware,
    JsonDepthLimitMiddleware,
    RequestContextMiddleware,
)
from companion.web.openapi import build_openapi
from companion.web.routers import DOMAIN_ROUTERS
from companion.web.warmup import Warmup, default_steps
from companion.web.widget import router as widget_router

log = logging.getLogger(__name__)

DESCRIPTION = """\
The HTTP API of Companion, a self-hosted AI companion for a multi-company ERP.

Authenticate with a bearer token from `POST /api/v1/auth/login` or with an `X-Api-Key`.
Users of several companies choose the active one with the `X-Company` header (slug).
Every error is `{"error": {"code", "message", "details"}}` with the matching HTTP status.
"""


def create_app(container: Container | None = None, *, warm: bool = False) -> FastAPI:
    """The ASGI app over ``container`` (built from the environment when None).

    ``warm``: load what the first chat turn needs in the background on startup; ``/readyz``
    answers 503 ``warming`` until it is loaded (``app.state.warmup``).
    """
    owns_container = container is None
    container = container or bootstrap()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Refuse to serve a database that is behind the code; the error names the fix.
        migrate.ensure_current(container.engine)
        if app.state.warmup is not None:
            app.state.warmup.start()
        log.info(
            "companion ready",
            extra={"database": container.engine.dialect.name, "version": __version__},
        )
        try:
            yield
        finally:
            if owns_container:
                container.engine.dispose()

    app = FastAPI(
        title="Companion API",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url="/docs",
        openapi_url="/openapi.json",
        redoc_url=None,
        # Days in the query as the OpenAPI states them (YYYY-MM-DD), on every route.
        dependencies=[Depends(iso_query_dates)],
    )
    app.state.container = container
    app.state.warmup = Warmup(default_steps(container)) if warm else None
    # Knowledge names the port for large uploads; jobs (a higher layer) provides it.
    app.state.large_uploads = BackgroundUploads(container)
    # The assistant names the port for data imports in chat; jobs provides it the same way.
    chat_imports.install(container)
    install_error_handlers(app)
    # Added last = outermost: the request id exists before the body limit answers, and the
    # body the nesting check reads whole is already within the limit.
    app.add_middleware(JsonDepthLimitMiddleware)
    app.add_middleware(
        BodySizeLimitMiddleware,
        max_body_bytes=container.settings.api.max_body_bytes,
        path_limits=body_limits(container.settings)
        | admin_body_limits(container.settings)
        | import_body_limits(container.settings),
    )
    # Just inside the request id: requests the body limits refuse are counted too.
    app.state.metrics = AppMetrics(container)
    app.add_middleware(MetricsMiddleware, metrics=app.state.metrics)
    app.add_middleware(RequestContextMiddleware)
    if container.settings.api.cors_origins:
        # Outermost: a browser's preflight from an integrator's ERP is answered first.
        app.add_middleware(
            CORSMiddleware,
            allow_origins=container.settings.api.cors_origins,
            allow_methods=["GET", "POST", "PUT", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "X-Company", "X-Api-Key"],
            expose_headers=["Retry-After", "X-Request-Id"],
            max_age=600,
        )
    app.include_router(health_router)
    app.include_router(metrics_router)
    app.include_router(widget_router)
    if container.settings.demo_mode:
        from companion.web import demo  # the demo host's pages exist only in demo mode

        demo.install(app)
    app.include_router(auth_router, prefix=API_PREFIX)
    for router in DOMAIN_ROUTERS:
        app.include_router(router, prefix=API_PREFIX)
    for router in ADMIN_ROUTERS:
        app.include_router(router)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build_openapi(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


def asgi_app() -> FastAPI:
    """The app ``companion serve`` runs: logging configured from the settings first."""
    settings = get_settings()
    configure_logging(settings.log_level, json_lines=settings.log_json)
    return create_app(bootstrap(settings), warm=settings.api.warm_start)
