"""SQL for memories, memory policies and purge receipts: always in the caller's company."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Integer,
    Select,
    bindparam,
    delete,
    func,
    or_,
    select,
)
from sqlalchemy.orm import Session, undefer

from companion.auth.models import User
from companion.errors import NotFound
from companion.governance.memory.models import GlobalMemory, Memory, MemoryPolicy, PurgeReceipt
from companion.tenancy.context import (
    RequestContext,
    company_param,
    in_company,
    scoped,
    scoped_later,
)
from companion.tenancy.models import Company


def _live(now: dt.datetime | BindParameter[dt.datetime]) -> ColumnElement[bool]:
    return or_(Memory.expires_at.is_(None), Memory.expires_at > now)


def visible(ctx: RequestContext) -> ColumnElement[bool]:
    """The caller's own memories and their company's shared ones; never another user's."""
    return _visible_to(ctx.user_id)


def _visible_to(user_id: int | BindParameter[int]) -> ColumnElement[bool]:
    return or_(Memory.user_id == user_id, Memory.scope == "company")


def list_memories(
    session: Session,
    ctx: RequestContext,
    now: dt.datetime,
    *,
    scope: str | None = None,
    kind: str | None = None,
    limit: int = 50,
    offset: int = 0,
    with_vectors: bool = False,
) -> tuple[list[Memory], int]:
    """The caller's live memories (and the company's), newest first, and how many in all."""
    stmt = scoped(select(Memory), Memory, ctx).where(visible(ctx), _live(now))
    if scope is not None:
        stmt = stmt.where(Memory.scope == scope)
    if kind is not None:
        stmt = stmt.where(Memory.kind == kind)
    total = session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
    return _newest(session, stmt, limit, offset, with_vectors), int(total)


# Built once, run with parameters (see companion.kit.db): every chat turn reads it.
_NEWEST_MEMORIES = (
    scoped_later(select(Memory), Memory)
    .where(_visible_to(bindparam("user_id")), _live(bindparam("now")))
    .options(undefer(Memory.vector))
    .order_by(Memory.updated_at.desc(), Memory.id.desc())
    .limit(bindparam("limit", type_=Integer))
)


def newest_memories(
    session: Session, ctx: RequestContext, now: dt.datetime, *, limit: int
) -> list[Memory]:
    """``list_memories``' first page with vectors, not counted (every chat turn reads it)."""
    params = {**company_param(ctx), "user_id": ctx.user_id, "now": now, "limit": limit}
    return list(session.execute(_NEWEST_MEMORIES, params).scalars())


def _newest(
    session: Session, stmt: Select[Memory], limit: int, offset: int, with_vectors: bool
) -> list[Memory]:
    if with_vectors:
        stmt = stmt.options(undefer(Memory.vector))
    order = (Memory.updated_at.desc(), Memory.id.desc())
    return list(session.execute(stmt.order_by(*order).limit(limit).offset(offset)).scalars())


def lock_owner(session: Session, ctx: RequestContext, scope: str) -> None:
    """Serialise remembering for one owner (the user, or the company for shared memories).

    Two requests saying the same thing at once would each find no duplicate and both add;
    holding the owner's row until the transaction ends makes the second see the first.
    (SQLite's write transaction already serialises writers.)
    """
    if scope == "user":
        session.execute(select(User.id).where(User.id == ctx.user_id).with_for_update())
    else:
        session.execute(select(Company.id).where(Company.id == ctx.company_id).with_for_update())


def candidates(
    session: Session, ctx: RequestContext, now: dt.datetime, *, scope: str, limit: int = 500
) -> list[Memory]:
    """The live memories a new one of ``scope`` is checked against (same owner)."""
    stmt = (
        scoped(select(Memory), Memory, ctx)
        .where(Memory.scope == scope, _live(now))
        .options(undefer(Memory.vector), undefer(Memory.history))
    )
    if scope == "user":
        stmt = stmt.where(Memory.user_id == ctx.user_id)
    return list(session.execute(stmt.order_by(Memory.id.desc()).limit(limit)).scalars())


def get_memory(session: Session, ctx: RequestContext, memory_id: int) -> Memory:
    """One memory the caller may see; another user's or company's is NotFound."""
    stmt = scoped(select(Memory), Memory, ctx).where(Memory.id == memory_id, visible(ctx))
    memory = session.execute(stmt).scalar_one_or_none()
    if memory is None:
        raise NotFound("Memory not found", details={"memory_id": memory_id})
    return memory


_LIVE_GLOBAL = (
    select(GlobalMemory)
    .where(or_(GlobalMemory.expires_at.is_(None), GlobalMemory.expires_at > bindparam("now")))
    .order_by(GlobalMemory.id.desc())
    .limit(bindparam("limit", type_=Integer))
)


def list_global(session: Session, now: dt.datetime, *, limit: int = 200) -> list[GlobalMemory]:
    """Live global memories, newest first."""
    return list(session.execute(_LIVE_GLOBAL, {"now": now, "limit": limit}).scalars())


def get_global(session: Session, memory_id: int) -> GlobalMemory:
    memory = session.get(GlobalMemory, memory_id)
    if memory is None:
        raise NotFound("Memory not found", details={"memory_id": memory_id})
    return memory


def global_by_hash(session: Session, digest: str) -> GlobalMemory | None:
    stmt = select(GlobalMemory).where(GlobalMemory.text_hash == digest).limit(1)
    return session.execute(stmt).scalar_one_or_none()


def delete_expired(session: Session, now: dt.datetime) -> int:
    """Delete every memory past its expiry, of every company (the TTL sweep)."""
    tenant = session.execute(
        delete(Memory).where(Memory.expires_at.is_not(None), Memory.expires_at <= now)
    )
    shared = session.execute(
        delete(GlobalMemory).where(
            GlobalMemory.expires_at.is_not(None), GlobalMemory.expires_at <= now
        )
    )
    return int(getattr(tenant, "rowcount", 0) or 0) + int(getattr(shared, "rowcount", 0) or 0)


def delete_expired_in(session: Session, company_id: int, now: dt.datetime) -> int:
    """Delete one company's expired memories and the expired global ones (the scheduled sweep)."""
    tenant = session.execute(
        delete(Memory).where(
            Memory.company_id == company_id,
            Memory.expires_at.is_not(None),
            Memory.expires_at <= now,
        )
    )
    shared = session.execute(
        delete(GlobalMemory).where(
            GlobalMemory.expires_at.is_not(None), GlobalMemory.expires_at <= now
        )
    )
    return int(getattr(tenant, "rowcount", 0) or 0) + int(getattr(shared, "rowcount", 0) or 0)


def delete_expired_for(session: Session, ctx: RequestContext, now: dt.datetime) -> int:
    """Delete the caller's company's expired memories (the lazy sweep on read).

    Looked for first: a read that finds nothing expired writes nothing (on SQLite a DELETE
    takes the write lock even when it matches no row).
    """
    expired = (in_company(Memory, ctx), Memory.expires_at.is_not(None), Memory.expires_at <= now)
    if session.execute(select(Memory.id).where(*expired).limit(1)).first() is None:
        return 0
    result = session.execute(delete(Memory).where(*expired))
    return int(getattr(result, "rowcount", 0) or 0)


def matching_purge(
    session: Session,
    ctx: RequestContext,
    *,
    user_id: int | None,
    kinds: Sequence[str] | None,
    before: dt.datetime | None,
) -> list[Memory]:
    """The company's memories a purge selects (a user's: theirs and those they wrote)."""
    stmt = scoped(select(Memory), Memory, ctx).options(undefer(Memory.history))
    if user_id is not None:
        stmt = stmt.where(or_(Memory.user_id == user_id, Memory.created_by == user_id))
    if kinds:
        stmt = stmt.where(Memory.kind.in_(list(kinds)))
    if before is not None:
        stmt = stmt.where(Memory.created_at < before)
    return list(session.execute(stmt).scalars())


def delete_ids(session: Session, ctx: RequestContext, ids: Sequence[int]) -> int:
    if not ids:
        return 0
    result = session.execute(delete(Memory).where(in_company(Memory, ctx), Memory.id.in_(ids)))
    return int(getattr(result, "rowcount", 0) or 0)


def get_policy(session: Session, ctx: RequestContext) -> MemoryPolicy | None:
    stmt = scoped(select(MemoryPolicy), MemoryPolicy, ctx)
    return session.execute(stmt).scalar_one_or_none()


def policy_of_company(session: Session, company_id: int) -> MemoryPolicy | None:
    """A company's policy row, for code that has a company id and no caller (jobs)."""
    stmt = select(MemoryPolicy).where(MemoryPolicy.company_id == company_id)
    return session.execute(stmt).scalar_one_or_none()


def list_receipts(
    session: Session, ctx: RequestContext, *, limit: int, offset: int
) -> tuple[list[PurgeReceipt], int]:
    stmt = scoped(select(PurgeReceipt), PurgeReceipt, ctx)
    total = session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
    rows = session.execute(
        stmt.order_by(PurgeReceipt.created_at.desc(), PurgeReceipt.id).limit(limit).offset(offset)
    ).scalars()
    return list(rows), int(total)
