"""The chat's adapter to data imports (``assistant.imports.DataImports``).

The assistant cannot import this floor; ``install(container)`` hands it this adapter where a
process builds its container (the app, ``companion ask``). A commit asked for in chat is the
same as the API's: ``service.commit`` moves the import to committing and queues the commit
job, handed to the container's runner once the turn commits. The runner is looked up by
the session's engine, so two containers in one process (tests) each keep their own.
"""

from __future__ import annotations

import threading
import weakref

from sqlalchemy import Connection
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from companion.assistant.imports import DataImports, ImportFacts, install_imports
from companion.bootstrap import Container
from companion.errors import PermissionDenied
from companion.jobs import runner as job_runner
from companion.jobs import service as jobs
from companion.jobs.imports import repository as repo
from companion.jobs.imports import service
from companion.jobs.imports.kinds import KINDS
from companion.jobs.imports.models import DataImport
from companion.jobs.service import Submitter
from companion.tenancy.context import RequestContext
from companion.tenancy.permissions import roles_granting

# Row errors an answer carries (the import keeps up to a thousand; errors.csv has them).
SHOWN_ERRORS = 10

_CONTAINERS: weakref.WeakKeyDictionary[Engine, weakref.ref[Container]] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


class ChatImports:
    """``DataImports`` over ``jobs.imports``: the REST API's rules (tenancy, kind permission)."""

    def kinds(self, ctx: RequestContext) -> list[str]:
        return service.visible_kinds(ctx)

    def latest(self, session: Session, ctx: RequestContext, kind: str | None) -> ImportFacts | None:
        kinds = [service.kind_for(ctx, kind).name] if kind else self._may_import(ctx)
        rows, _ = repo.list_for(session, ctx, kinds, limit=1, offset=0)
        return _facts(session, ctx, rows[0]) if rows else None

    def get(self, session: Session, ctx: RequestContext, import_id: int) -> ImportFacts:
        self._may_import(ctx)
        row = repo.get(session, ctx, import_id)
        service.kind_for(ctx, row.kind)
        return _facts(session, ctx, row)

    def commit(self, session: Session, ctx: RequestContext, import_id: int) -> ImportFacts:
        self._may_import(ctx)
        row, _ = service.commit(session, ctx, import_id, runner=_runner(session))
        return _facts(session, ctx, row)

    @staticmethod
    def _may_import(ctx: RequestContext) -> list[str]:
        """The kinds the caller may import; none at all is a refusal naming who may."""
        kinds = service.visible_kinds(ctx)
        if kinds:
            return kinds
        permissions = sorted({k.permission for k in KINDS.values()})
        roles = sorted(
            {r for p in permissions for r in roles_granting(p)}, key=lambda r: (r == "admin", r)
        )
        raise PermissionDenied(
            f"Data imports need one of the permissions {', '.join(permissions)} "
            f"(role {' or '.join(roles)})",
            details={"permission": " | ".join(permissions), "roles": roles},
        )


def _facts(session: Session, ctx: RequestContext, row: DataImport) -> ImportFacts:
    job = jobs.get_job(session, ctx, row.job_id) if row.job_id else None
    events = repo.events(session, ctx, row.id)
    return ImportFacts(
        id=row.id,
        kind=row.kind,
        filename=row.filename,
        status=row.status,
        total_rows=row.total_rows,
        valid_rows=row.valid_rows,
        error_count=row.error_count,
        duplicate_count=row.duplicate_count,
        errors=[dict(e) for e in (row.errors or [])[:SHOWN_ERRORS]],
        created_at=row.created_at,
        committed_at=row.committed_at,
        job_id=row.job_id,
        progress=job.progress if job is not None else None,
        job_message=job.message if job is not None else None,
        last_message=events[-1].message if events else None,
    )


def _runner(session: Session) -> Submitter | None:
    """The runner of the container whose engine ``session`` uses (None: the job waits queued
    for the next start's ``resume_queued``)."""
    bind = session.get_bind()
    engine = bind.engine if isinstance(bind, Connection) else bind
    with _LOCK:
        ref = _CONTAINERS.get(engine)
    container = ref() if ref is not None else None
    return job_runner.runner_for(container) if container is not None else None


_PORT = ChatImports()


def install(container: Container) -> DataImports:
    """Give the chat this adapter, committing through ``container``'s job runner."""
    with _LOCK:
        _CONTAINERS[container.engine] = weakref.ref(container)
    install_imports(_PORT)
    return _PORT
