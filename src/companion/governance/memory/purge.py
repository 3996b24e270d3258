"""The right to be forgotten: remove a user's, a category's or a period's data everywhere.

Each place that can hold a copy of what a user said is a *purgeable store*, registered by
name (``register_store``): memories here; conversations and messages, caches and exported
datasets where they live (the assistant, the web layer and the jobs register theirs). A
purge runs every store in one transaction and returns a receipt (what, where, how many,
a digest of all of it) that is kept and appended to the company's audit chain.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy.orm import Session

from companion.audit import service as audit
from companion.errors import ValidationFailed
from companion.governance.memory import repository as repo
from companion.governance.memory.models import PurgeReceipt
from companion.governance.memory.policy import KINDS
from companion.tenancy.context import RequestContext

ADMIN_PERMISSION = "ai.admin"


@dataclass(frozen=True)
class PurgeRequest:
    """What to forget: a user's data, memories of some kinds, data made before a time."""

    user_id: int | None = None
    kinds: tuple[str, ...] | None = None
    before: dt.datetime | None = None
    conversations: bool = False

    def criteria(self) -> dict[str, Any]:
        return {
            "user_id": self.user_id,
            "categories": list(self.kinds) if self.kinds else None,
            "before": self.before.isoformat() if self.before else None,
            "conversations": self.conversations,
        }


@dataclass
class PurgeScope:
    """What every store is told: the request, and the texts of the memories removed."""

    request: PurgeRequest
    now: dt.datetime
    texts: list[str] = field(default_factory=list)
    conversation_ids: set[str] = field(default_factory=set)
    # Chat messages blanked or deleted so far (stores that keep copies keyed by message).
    message_ids: set[str] = field(default_factory=set)


class PurgeableStore(Protocol):
    """A place that may hold purged data; ``purge`` removes it and says how many items."""

    name: str

    def purge(self, session: Session, ctx: RequestContext, scope: PurgeScope) -> int: ...


_STORES: dict[str, PurgeableStore] = {}
_LOCK = threading.Lock()


def register_store(store: PurgeableStore) -> PurgeableStore:
    """Add a store every purge visits (the same name again replaces it)."""
    with _LOCK:
        _STORES[store.name] = store
    return store


def registered_stores() -> list[PurgeableStore]:
    """The stores, memories first (the others are told what memories were removed)."""
    with _LOCK:
        return list(_STORES.values())


class MemoryStore:
    """The memories table (its vectors live in the rows and go with them)."""

    name = "memories"

    def purge(self, session: Session, ctx: RequestContext, scope: PurgeScope) -> int:
        request = scope.request
        rows = repo.matching_purge(
            session, ctx, user_id=request.user_id, kinds=request.kinds, before=request.before
        )
        for memory in rows:
            scope.texts.append(memory.text)
            scope.texts.extend(str(t) for t in memory.history or [])
            if memory.conversation_id:
                scope.conversation_ids.add(memory.conversation_id)
        return repo.delete_ids(session, ctx, [m.id for m in rows])


register_store(MemoryStore())


def check_request(ctx: RequestContext, request: PurgeRequest) -> None:
    """422 for an empty or unknown selection, 403 for another user's data without ai.admin."""
    if request.user_id is None and not request.kinds and request.before is None:
        raise ValidationFailed(
            "Say what to purge: a user, a category or a date",
            details={"fields": ["user_id", "category", "before"]},
        )
    unknown = [k for k in request.kinds or () if k not in KINDS]
    if unknown:
        raise ValidationFailed(
            f"Unknown category: {', '.join(unknown)}",
            details={"field": "category", "allowed": list(KINDS)},
        )
    if request.user_id != ctx.user_id:
        ctx.require(ADMIN_PERMISSION)


def purge(
    session: Session,
    ctx: RequestContext,
    request: PurgeRequest,
    *,
    now: dt.datetime,
    extra_stores: Sequence[PurgeableStore] = (),
) -> dict[str, Any]:
    """Remove the selected data from every store; the receipt, kept and audited."""
    check_request(ctx, request)
    scope = PurgeScope(request=request, now=now)
    counts: dict[str, int] = {}
    for store in [*registered_stores(), *extra_stores]:
        counts[store.name] = counts.get(store.name, 0) + int(store.purge(session, ctx, scope))
    receipt: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "company": ctx.company_slug,
        "requested_by": ctx.user_id,
        "criteria": request.criteria(),
        "removed": counts,
        "total": sum(counts.values()),
        "at": now.isoformat(),
    }
    canonical = json.dumps(receipt, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    receipt["digest"] = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    entry = audit.record(
        session,
        ctx,
        "memory.purge",
        "memory_purge_receipt",
        receipt["id"],
        new={"criteria": receipt["criteria"], "removed": counts, "digest": receipt["digest"]},
    )
    receipt["audit_seq"] = entry.seq
    session.add(
        PurgeReceipt(
            id=receipt["id"],
            company_id=ctx.company_id,
            requested_by=ctx.user_id,
            criteria=receipt["criteria"],
            counts=counts,
            digest=receipt["digest"],
            audit_seq=entry.seq,
            created_at=now,
        )
    )
    session.flush()
    return receipt


def receipt_digest(receipt: dict[str, Any]) -> str:
    """Recompute a receipt's digest (everything but ``digest`` and ``audit_seq``)."""
    body = {k: v for k, v in receipt.items() if k not in ("digest", "audit_seq")}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
