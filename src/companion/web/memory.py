"""Memory over HTTP: remember, list, forget, purge with a receipt, the policy, the audit trail."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response
from sqlalchemy.orm import Session

import companion.assistant.memory.stores  # noqa: F401  (registers the conversation store)
from companion.assistant.memory import recall
from companion.assistant.understanding import load_master
from companion.audit.repository import AuditFilter, list_entries
from companion.bootstrap import Container
from companion.governance.memory import purge as purging
from companion.governance.memory import repository as memory_repo
from companion.governance.memory import service as memories
from companion.governance.memory.models import GlobalMemory, Memory
from companion.governance.memory.policy import KINDS
from companion.governance.memory.schemas import (
    AuditLogOut,
    Kind,
    MemoryIn,
    MemoryOut,
    PolicyIn,
    PolicyOut,
    ReceiptOut,
    RememberedOut,
    Scope,
)
from companion.tenancy.context import RequestContext
from companion.web.deps import MAX_ID, ContainerDep, Page, PageDep, RecordId, SessionDep, require

router = APIRouter(prefix="/ai/memory", tags=["memory"])
MemoryUser = Annotated[RequestContext, Depends(require("ai.use"))]
MemoryAdmin = Annotated[RequestContext, Depends(require("ai.admin"))]


def _out(memory: Memory | GlobalMemory) -> dict[str, Any]:
    return {
        "id": memory.id,
        "scope": getattr(memory, "scope", "global"),
        "kind": memory.kind,
        "retention": memory.retention,
        "text": memory.text,
        "due_on": getattr(memory, "due_on", None),
        "entities": getattr(memory, "entities", None),
        "created_at": memory.created_at,
        "updated_at": getattr(memory, "updated_at", None),
        "expires_at": memory.expires_at,
    }


@router.post(
    "",
    response_model=RememberedOut,
    status_code=201,
    responses={
        200: {
            "model": RememberedOut,
            "description": "Already remembered: the memory kept or updated (`action` says which)",
        }
    },
)
def remember(
    body: MemoryIn,
    session: SessionDep,
    ctx: MemoryUser,
    container: ContainerDep,
    response: Response,
) -> RememberedOut:
    """Remember something; a repeat of a memory is not stored twice (``action`` says which)."""
    kept = recall.keep(
        session,
        ctx,
        body.text,
        master=load_master(session, ctx),
        today=container.clock.today(),
        now=container.clock.now(),
        embedder=container.memory_embedder,
        kind=body.kind,
        scope=body.scope,
        retention=body.retention,
        due_on=body.due_on,
        source="api",
    )
    if kept.action != "add":
        response.status_code = 200
    return RememberedOut(**_out(kept.memory), action=kept.action, similarity=kept.similarity)


@router.get("", response_model=Page[MemoryOut])
def list_memories(
    session: SessionDep,
    ctx: MemoryUser,
    container: ContainerDep,
    page: PageDep,
    scope: Scope | None = None,
    kind: Kind | None = None,
) -> Page[MemoryOut]:
    """The caller's memories and the company's shared ones (expired ones are never listed)."""
    now = container.clock.now()
    if scope == "global":
        rows = memory_repo.list_global(session, now, limit=500)
        chosen = [m for m in rows if kind is None or m.kind == kind]
        items = chosen[page.offset : page.offset + page.limit]
        return Page(
            items=[MemoryOut(**_out(m)) for m in items],
            total=len(chosen),
            limit=page.limit,
            offset=page.offset,
        )
    found, total = memories.list_memories(
        session, ctx, now, scope=scope, kind=kind, limit=page.limit, offset=page.offset
    )
    return Page(
        items=[MemoryOut(**_out(m)) for m in found],
        total=total,
        limit=page.limit,
        offset=page.offset,
    )


@router.delete("/purge", response_model=ReceiptOut)
def purge(
    session: SessionDep,
    ctx: MemoryUser,
    container: ContainerDep,
    user_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    category: Annotated[list[Kind] | None, Query(max_length=len(KINDS))] = None,
    before: dt.datetime | None = None,
    conversations: bool = False,
) -> ReceiptOut:
    """Forget a user's data, a category of memories or what was made before a time, everywhere.

    A user may purge their own data (``user_id`` = their id); anything wider needs
    ``ai.admin``. ``conversations=true`` also deletes the selected conversations.
    """
    if before is not None and before.tzinfo is None:
        before = before.replace(tzinfo=dt.UTC)
    request = purging.PurgeRequest(
        user_id=user_id,
        kinds=tuple(category) if category else None,
        before=before,
        conversations=conversations,
    )
    receipt = purging.purge(
        session,
        ctx,
        request,
        now=container.clock.now(),
        extra_stores=[ModelCacheStore(container)],
    )
    return ReceiptOut(**receipt)


@router.get("/audit-logs", response_model=Page[AuditLogOut])
def audit_logs(session: SessionDep, ctx: MemoryUser, page: PageDep) -> Page[AuditLogOut]:
    """The memory events of the company's audit chain (the caller's own without audit.read)."""
    where = AuditFilter(action="memory.", actor=None if _sees_all(ctx) else ctx.username)
    rows, total = list_entries(session, ctx, where, limit=page.limit, offset=page.offset)
    return Page(
        items=[
            AuditLogOut(
                seq=e.seq,
                action=e.action,
                entity_type=e.entity_type,
                entity_id=e.entity_id,
                actor=e.actor,
                new=e.new_values,
                hash=e.hash,
                created_at=e.created_at,
            )
            for e in rows
        ],
        total=total,
        limit=page.limit,
        offset=page.offset,
    )


def _sees_all(ctx: RequestContext) -> bool:
    return ctx.can("audit.read") or ctx.can("ai.admin")


@router.get("/policy", response_model=PolicyOut)
def get_policy(session: SessionDep, ctx: MemoryUser) -> PolicyOut:
    """The company's memory policy: TTL per retention class, PII scrubbing, compliance mode."""
    return _policy_out(memories.policy_for(session, ctx))


@router.put("/policy", response_model=PolicyOut)
def put_policy(
    body: PolicyIn, session: SessionDep, ctx: MemoryAdmin, container: ContainerDep
) -> PolicyOut:
    """Change the policy (``ai.admin``); fields left out stay as they are."""
    changes = body.model_dump(exclude_unset=True)
    return _policy_out(memories.set_policy(session, ctx, changes, container.clock.now()))


def _policy_out(policy: Any) -> PolicyOut:
    return PolicyOut(
        ttls={**policy.ttls, "permanent": None},
        pii_scrubbing=policy.pii_scrubbing,
        compliance_mode=policy.compliance_mode,
        external_providers_allowed=policy.allows_external_providers(),
    )


# ":int": /audit-logs and /policy are other resources, so DELETE there is a 405, not a 422.
@router.delete("/{memory_id:int}", status_code=204)
def forget(memory_id: RecordId, session: SessionDep, ctx: MemoryUser) -> Response:
    """Delete one of the caller's memories (a company one needs ``ai.admin``)."""
    memories.forget(session, ctx, memory_id)
    return Response(status_code=204)


class ModelCacheStore:
    """The language models' response cache: generations may repeat what was purged."""

    name = "model_response_cache"

    def __init__(self, container: Container) -> None:
        self._container = container

    def purge(self, session: Session, ctx: RequestContext, scope: purging.PurgeScope) -> int:
        llm = self._container.built_llm()
        if llm is None:
            return 0
        # Keys are digests: which entries quote the purged text is unknowable, so all go.
        removed = len(llm.cache)
        llm.cache.clear()
        return removed
