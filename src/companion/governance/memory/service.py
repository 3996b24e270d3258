"""Remembering, listing, forgetting and expiring memories; a company's memory policy.

Services take a ``RequestContext``, flush and never commit. Audit entries name a memory by
id, kind and a digest of its text, never the text: a purged memory must leave no copy behind
in the (append-only) audit chain.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from sqlalchemy.orm import Session

from companion.audit import service as audit
from companion.errors import PermissionDenied, ValidationFailed
from companion.governance.memory import dedup
from companion.governance.memory import repository as repo
from companion.governance.memory.models import GlobalMemory, Memory, MemoryPolicy
from companion.governance.memory.policy import (
    DEFAULT_RETENTION,
    DEFAULT_TTLS,
    KINDS,
    MAX_TTL_S,
    MIN_TTL_S,
    RETENTIONS,
    SCOPES,
    Policy,
)
from companion.governance.pii import redact
from companion.tenancy.context import RequestContext

MAX_TEXT_CHARS = 2000
# How many of a user's newest memories a message is ranked against.
RANKED = 200
# Who may write what every user of the company (or of every company) will be told.
SHARED_PERMISSION = "ai.admin"


class TextEmbedder(Protocol):
    """The embeddings port as memory uses it: texts in, unit vectors (rows) out."""

    def embed(self, texts: list[str]) -> Any: ...


@dataclass(frozen=True)
class Remembered:
    """What became of a new memory: the record and whether it was added, updated or a repeat."""

    memory: Memory | GlobalMemory
    action: str
    similarity: float | None = None


def policy_for(session: Session, ctx: RequestContext) -> Policy:
    """The caller's company's effective memory policy."""
    return _policy(repo.get_policy(session, ctx))


def policy_of(session: Session, company_id: int) -> Policy:
    """A company's effective memory policy by id (model-provider choice, jobs)."""
    return _policy(repo.policy_of_company(session, company_id))


def _policy(row: MemoryPolicy | None) -> Policy:
    if row is None:
        return Policy.default()
    ttls = dict(DEFAULT_TTLS)
    for name in ("short", "medium", "long"):
        value = getattr(row, f"{name}_ttl_s")
        if value is not None:
            ttls[name] = int(value)
    return Policy(ttls=ttls, pii_scrubbing=row.pii_scrubbing, compliance_mode=row.compliance_mode)


def set_policy(
    session: Session, ctx: RequestContext, changes: dict[str, Any], now: dt.datetime
) -> Policy:
    """Change the company's memory policy (``ai.admin``); audited with old and new values."""
    ctx.require(SHARED_PERMISSION)
    row = repo.get_policy(session, ctx)
    if row is None:
        row = MemoryPolicy(company_id=ctx.company_id, pii_scrubbing=True, compliance_mode=False)
        session.add(row)
    old = _policy_values(row)
    for key, value in changes.items():
        if key.endswith("_ttl_s") and value is not None and not MIN_TTL_S <= value <= MAX_TTL_S:
            raise ValidationFailed(
                f"{key} must be between {MIN_TTL_S} and {MAX_TTL_S} seconds",
                details={"field": key, "value": value},
            )
        setattr(row, key, value)
    row.updated_by, row.updated_at = ctx.user_id, now
    session.flush()
    audit.record(
        session, ctx, "memory.policy", "memory_policy", row.id, old=old, new=_policy_values(row)
    )
    return _policy(row)


def _policy_values(row: MemoryPolicy) -> dict[str, Any]:
    return {
        "short_ttl_s": row.short_ttl_s,
        "medium_ttl_s": row.medium_ttl_s,
        "long_ttl_s": row.long_ttl_s,
        "pii_scrubbing": row.pii_scrubbing,
        "compliance_mode": row.compliance_mode,
    }


def clean_text(text: str, policy: Policy) -> str:
    """The text as stored: stripped, length-checked, personal data redacted when on."""
    cleaned = " ".join(text.split())
    if not cleaned:
        raise ValidationFailed("The memory is empty", details={"field": "text"})
    if len(cleaned) > MAX_TEXT_CHARS:
        raise ValidationFailed(
            f"A memory is at most {MAX_TEXT_CHARS} characters",
            details={"field": "text", "limit": MAX_TEXT_CHARS, "length": len(cleaned)},
        )
    return redact(cleaned).text if policy.pii_scrubbing else cleaned


def remember(
    session: Session,
    ctx: RequestContext,
    text: str,
    *,
    now: dt.datetime,
    kind: str = "fact",
    scope: str = "user",
    retention: str | None = None,
    entities: dict[str, Any] | None = None,
    due_on: dt.date | None = None,
    source: str = "api",
    conversation_id: str | None = None,
    embedder: TextEmbedder | None = None,
) -> Remembered:
    """Keep ``text`` as a memory, unless it repeats one; an updated preference replaces the old."""
    _check_choice("kind", kind, KINDS)
    _check_choice("scope", scope, SCOPES)
    retention = retention or DEFAULT_RETENTION[kind]
    _check_choice("retention", retention, RETENTIONS)
    if scope != "user" and not ctx.can(SHARED_PERMISSION):
        raise PermissionDenied(
            f"Only an administrator of the assistant may keep a {scope} memory",
            details={"permission": SHARED_PERMISSION, "scope": scope},
        )
    policy = policy_for(session, ctx)
    stored = clean_text(text, policy)
    vector = _vector(embedder, stored)
    expires_at = policy.expiry(retention, now)
    repo.lock_owner(session, ctx, "user" if scope == "user" else "company")
    if scope == "global":
        return _remember_global(session, ctx, stored, kind, retention, vector, expires_at, now)
    existing = repo.candidates(session, ctx, now, scope=scope)
    decision = dedup.decide(
        kind=kind,
        text=stored,
        vector=vector,
        entities=entities,
        existing=[
            dedup.Candidate(m.id, m.kind, m.text, m.text_hash, m.vector, m.entities)
            for m in existing
        ],
    )
    if decision.action != "add":
        memory = next(m for m in existing if m.id == decision.existing_id)
        action = decision.action
        if action == "duplicate" and due_on is not None and due_on != memory.due_on:
            action = "update"  # the same reminder for another day: the new day is the fact
        if action == "update":
            memory.history = [*(memory.history or []), memory.text][-5:]
            memory.text, memory.text_hash, memory.vector = stored, dedup.text_hash(stored), vector
            memory.entities = entities or memory.entities
            memory.due_on = due_on or memory.due_on
        # A repeat is still news that the memory matters: its lifetime starts again.
        memory.retention = _longer(memory.retention, retention)
        memory.expires_at = policy.expiry(memory.retention, now)
        memory.updated_at = now
        session.flush()
        _audit(session, ctx, f"memory.{action}", memory)
        return Remembered(memory, action, decision.similarity)
    memory = Memory(
        company_id=ctx.company_id,
        user_id=ctx.user_id if scope == "user" else None,
        scope=scope,
        kind=kind,
        retention=retention,
        text=stored,
        text_hash=dedup.text_hash(stored),
        vector=vector,
        entities=entities or None,
        due_on=due_on,
        source=source,
        conversation_id=conversation_id,
        created_by=ctx.user_id,
        created_at=now,
        updated_at=now,
        expires_at=expires_at,
    )
    session.add(memory)
    session.flush()
    _audit(session, ctx, "memory.add", memory)
    return Remembered(memory, "add")


def _remember_global(
    session: Session,
    ctx: RequestContext,
    text: str,
    kind: str,
    retention: str,
    vector: list[float] | None,
    expires_at: dt.datetime | None,
    now: dt.datetime,
) -> Remembered:
    digest = dedup.text_hash(text)
    found = repo.global_by_hash(session, digest)
    if found is not None:
        found.expires_at = expires_at
        session.flush()
        return Remembered(found, "duplicate", 1.0)
    memory = GlobalMemory(
        kind=kind,
        retention=retention,
        text=text,
        text_hash=digest,
        vector=vector,
        created_by=ctx.user_id,
        created_at=now,
        expires_at=expires_at,
    )
    session.add(memory)
    session.flush()
    audit.record(
        session,
        ctx,
        "memory.add",
        "global_memory",
        memory.id,
        new={"kind": kind, "scope": "global", "text_sha256": digest},
    )
    return Remembered(memory, "add")


def _longer(a: str, b: str) -> str:
    return a if RETENTIONS.index(a) >= RETENTIONS.index(b) else b


def _check_choice(field: str, value: str, allowed: Sequence[str]) -> None:
    if value not in allowed:
        raise ValidationFailed(
            f"{field} must be one of {', '.join(allowed)}",
            details={"field": field, "value": value, "allowed": list(allowed)},
        )


def _vector(embedder: TextEmbedder | None, text: str) -> list[float] | None:
    if embedder is None:
        return None
    # Four decimals: cosines move by < 1e-3, and the JSON is half as long to parse.
    return [round(float(x), 4) for x in embedder.embed([text])[0]]


def _audit(session: Session, ctx: RequestContext, action: str, memory: Memory) -> None:
    audit.record(
        session,
        ctx,
        action,
        "memory",
        memory.id,
        new={
            "kind": memory.kind,
            "scope": memory.scope,
            "retention": memory.retention,
            "text_sha256": memory.text_hash,
        },
    )


def list_memories(
    session: Session,
    ctx: RequestContext,
    now: dt.datetime,
    *,
    scope: str | None = None,
    kind: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Memory], int]:
    """The caller's live memories and their company's; expired ones are deleted first."""
    repo.delete_expired_for(session, ctx, now)
    return repo.list_memories(session, ctx, now, scope=scope, kind=kind, limit=limit, offset=offset)


def forget(session: Session, ctx: RequestContext, memory_id: int) -> None:
    """Delete one memory: the caller's own, or (``ai.admin``) one of the company's."""
    memory = repo.get_memory(session, ctx, memory_id)
    if memory.user_id != ctx.user_id:
        ctx.require(SHARED_PERMISSION)
    _audit(session, ctx, "memory.delete", memory)
    session.delete(memory)
    session.flush()


def sweep_expired(session: Session, now: dt.datetime) -> int:
    """Delete every memory (all companies, and global ones) whose expiry has passed.

    Reads skip expired memories, so one is never returned even before a sweep deletes it;
    listing a caller's memories also deletes their company's expired ones.
    """
    count = repo.delete_expired(session, now)
    session.flush()
    return count


def sweep_company(session: Session, company_id: int, now: dt.datetime) -> int:
    """The periodic TTL sweep for one company (and the global memories): rows deleted."""
    count = repo.delete_expired_in(session, company_id, now)
    session.flush()
    return count


def relevant(
    session: Session,
    ctx: RequestContext,
    now: dt.datetime,
    *,
    query_vector: Callable[[], Sequence[float]] | None,
    limit: int = 5,
) -> list[Memory | GlobalMemory]:
    """The memories most related to a message: by meaning, the newest first on a tie.

    ``query_vector`` is called only when there are more memories than ``limit`` (a user with
    a few memories gets them all, and no model is loaded for them). Every chat turn asks, so
    it only reads: expired memories are skipped here and deleted by the scheduled sweep.
    """
    rows: list[Memory | GlobalMemory] = [
        *repo.newest_memories(session, ctx, now, limit=RANKED),
        *repo.list_global(session, now, limit=RANKED // 4),
    ]
    if len(rows) <= limit or query_vector is None:
        return rows[:limit]
    query = np.asarray(query_vector(), dtype=np.float32)
    scores = np.full(len(rows), -2.0, dtype=np.float32)
    sized = [i for i, m in enumerate(rows) if m.vector and len(m.vector) == len(query)]
    if sized:
        matrix = np.asarray([rows[i].vector for i in sized], dtype=np.float32)
        norms = np.linalg.norm(matrix, axis=1) * max(float(np.linalg.norm(query)), 1e-12)
        scores[sized] = (matrix @ query) / np.maximum(norms, 1e-12)
    # A stable sort keeps the newest first among equal scores (rows come newest first).
    order = np.argsort(-scores, kind="stable")[:limit]
    return [rows[int(i)] for i in order]


def due_reminders(
    session: Session, ctx: RequestContext, now: dt.datetime, today: dt.date
) -> list[Memory]:
    """The caller's reminders due today or earlier."""
    rows, _ = repo.list_memories(session, ctx, now, scope="user", kind="reminder", limit=200)
    return [m for m in rows if m.due_on is not None and m.due_on <= today]
