"""All SQL of data imports."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from companion.errors import NotFound
from companion.jobs.imports.kinds import ImportKind
from companion.jobs.imports.models import DataImport, DataImportEvent
from companion.kit.db import utcnow
from companion.tenancy.context import RequestContext, in_company, scoped


def get(session: Session, ctx: RequestContext, import_id: int) -> DataImport:
    """One import of the caller's company (another company's is NotFound, like a missing one)."""
    row = session.scalars(
        scoped(select(DataImport).where(DataImport.id == import_id), DataImport, ctx)
    ).first()
    if row is None:
        raise NotFound("No such import", details={"import_id": import_id})
    return row


def list_for(
    session: Session, ctx: RequestContext, kinds: Collection[str], *, limit: int, offset: int
) -> tuple[list[DataImport], int]:
    """The company's imports of ``kinds``, newest first, and their count."""
    stmt = scoped(select(DataImport), DataImport, ctx).where(DataImport.kind.in_(list(kinds)))
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(stmt.order_by(DataImport.id.desc()).limit(limit).offset(offset)).all()
    return list(rows), total


def events(session: Session, ctx: RequestContext, import_id: int) -> list[DataImportEvent]:
    """An import's status changes, oldest first."""
    stmt = scoped(
        select(DataImportEvent).where(DataImportEvent.import_id == import_id),
        DataImportEvent,
        ctx,
    )
    return list(session.scalars(stmt.order_by(DataImportEvent.id)))


def move(
    session: Session, ctx: RequestContext, row: DataImport, to: str, *, allowed: Collection[str]
) -> bool:
    """Change the status if it is still one of ``allowed`` (one conditional UPDATE); False if not.

    Two requests committing the same import at once: one of them moves it.
    """
    result = session.execute(
        update(DataImport)
        .where(
            DataImport.id == row.id,
            DataImport.status.in_(list(allowed)),
            in_company(DataImport, ctx),
        )
        .values(status=to, updated_at=utcnow())
    )
    if getattr(result, "rowcount", 0) != 1:
        return False
    session.refresh(row)
    return True


def add_event(
    session: Session,
    ctx: RequestContext,
    row: DataImport,
    before: str | None,
    after: str,
    message: str | None = None,
) -> None:
    """Record a status change of ``row``."""
    session.add(
        DataImportEvent(
            company_id=ctx.company_id,
            import_id=row.id,
            from_status=before,
            to_status=after,
            user_id=ctx.user_id or None,
            message=message[:500] if message else None,
        )
    )
    session.flush()


def existing_keys(session: Session, ctx: RequestContext, kind: ImportKind) -> dict[str, set[str]]:
    """The company's values of each of the kind's unique keys (codes, names, SKUs)."""
    found: dict[str, set[str]] = {key: set() for key in kind.keys}
    if kind.model is None:  # unique within the file only
        return found
    for key in kind.keys:
        column = getattr(kind.model, key)
        stmt = scoped(select(column), kind.model, ctx)
        found[key] = {str(v) for v in session.scalars(stmt) if v is not None}
    return found


def references(session: Session, ctx: RequestContext, kind: ImportKind) -> dict[str, int]:
    """The codes the kind's rows refer to (an account code -> its id); empty for most kinds."""
    return dict(kind.references(session, ctx)) if kind.references is not None else {}


def unchanged_since(
    session: Session, ctx: RequestContext, statuses: Collection[str], before: dt.datetime
) -> list[DataImport]:
    """The company's imports in one of ``statuses`` whose last change is older than ``before``."""
    stmt = scoped(select(DataImport), DataImport, ctx).where(
        DataImport.status.in_(list(statuses)), DataImport.updated_at < before
    )
    return list(session.scalars(stmt.order_by(DataImport.id)))
