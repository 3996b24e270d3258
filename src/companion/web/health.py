"""Liveness and readiness probes (no authentication, outside ``/api/v1``)."""

from __future__ import annotations

import logging

from fastapi import APIRouter
from sqlalchemy.exc import SQLAlchemyError

from companion.errors import ServiceUnavailable
from companion.kit import migrate
from companion.web.deps import ContainerDep

router = APIRouter(tags=["health"])
log = logging.getLogger(__name__)


@router.get("/healthz", summary="The process is alive")
def healthz() -> dict[str, str]:
    """Always ``ok`` while the process serves requests."""
    return {"status": "ok"}


@router.get("/readyz", summary="The database is reachable and migrated")
def readyz(container: ContainerDep) -> dict[str, str]:
    """``ready`` or a 503 envelope saying why not (unreachable or behind the code)."""
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
