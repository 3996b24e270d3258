"""Liveness and readiness probes (no authentication, outside ``/api/v1``)."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from sqlalchemy.exc import SQLAlchemyError

from companion.errors import ServiceUnavailable
from companion.kit import migrate
from companion.web.deps import ContainerDep
from companion.web.warmup import Warmup

router = APIRouter(tags=["health"])
log = logging.getLogger(__name__)


@router.get("/healthz", summary="The process is alive")
def healthz() -> dict[str, str]:
    """Always ``ok`` while the process serves requests."""
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="Ready for traffic: the database reachable and migrated, the models loaded",
    responses={
        503: {
            "description": "Not ready: `details.reason` is `warming`, "
            "`database_unreachable` or `database_not_migrated`",
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/ErrorEnvelope"}}
            },
        }
    },
)
def readyz(container: ContainerDep, request: Request) -> dict[str, str]:
    """``ready`` or a 503 envelope saying why not (warming, unreachable, behind the code)."""
    warmup: Warmup | None = getattr(request.app.state, "warmup", None)
    if warmup is not None and not warmup.ready:
        raise ServiceUnavailable(
            "Loading the models the first question needs",
            details={"reason": "warming", "retry_after": 1, **warmup.progress()},
        )
    try:
        migrate.ensure_current(container.engine)
    except SQLAlchemyError as exc:
        log.warning("readiness: database unreachable: %s", exc.__class__.__name__)
        raise ServiceUnavailable(
            "The database is not reachable", details={"reason": "database_unreachable"}
        ) from exc
    return {
        "status": "ready",
        "database": container.engine.dialect.name,
        "revision": migrate.head_revision(),
    }
