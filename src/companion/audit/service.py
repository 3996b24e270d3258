"""Appending to and verifying the hash-chained audit log.

Each company has its own chain (``company:<id>``); events outside any company go to the
``global`` chain. An entry's hash covers its content and the previous entry's hash, and
``audit_heads`` remembers each chain's last entry, so ``verify`` catches an edited row, a
deleted row in the middle (broken link) and a deleted tail (head mismatch).

Appending locks the chain's head until the transaction ends, so a company's writers take
turns. Inside ``written_last`` (a chat turn, an AI action's execution) entries are queued
instead and chained when the scope ends, with the head locked once, as the transaction's
last writes: the head is then held only for them and the commit, not while the action
posts and the turn records itself. Entries queued in a savepoint that rolls back vanish
with it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from companion.audit.models import AuditEntry, AuditHead
from companion.kit.db import TransactionQueue, utcnow
from companion.kit.jsonable import jsonable
from companion.tenancy.context import RequestContext

GENESIS = "0" * 64


# An entry's columns its hash covers, and their names in the hashed payload.
_HASHED = {
    "chain": "chain",
    "seq": "seq",
    "company_id": "company_id",
    "actor_user_id": "actor_user_id",
    "actor": "actor",
    "action": "action",
    "entity_type": "entity_type",
    "entity_id": "entity_id",
    "old_values": "old",
    "new_values": "new",
    "via_ai": "via_ai",
    "conversation_message_id": "message",
    "created_at": "at",
    "prev_hash": "prev",
}


def _digest(entry: AuditEntry) -> str:
    return _digest_values({column: getattr(entry, column) for column in _HASHED})


def _digest_values(values: Mapping[str, Any]) -> str:
    """The hash of an entry given as its column values."""
    payload = {name: values[column] for column, name in _HASHED.items()}
    payload["at"] = values["created_at"].astimezone(dt.UTC).isoformat()
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def record(
    session: Session,
    ctx: RequestContext | None,
    action: str,
    entity_type: str,
    entity_id: int | str | None,
    *,
    old: dict[str, Any] | None = None,
    new: dict[str, Any] | None = None,
    company_id: int | None = None,
    actor: str | None = None,
    conversation_message_id: str | None = None,
) -> AuditEntry:
    """Append one entry; ``ctx`` gives actor, company and ``via_ai`` when there is one.

    Inside ``written_last`` the entry is queued: its ``seq``, ``hash`` and ``created_at``
    are set when the scope ends and it is written (it gets no ``id``).
    """
    company = ctx.company_id if ctx else company_id
    chain = f"company:{company}" if company is not None else "global"
    entry = AuditEntry(
        chain=chain,
        company_id=company,
        actor_user_id=ctx.user_id if ctx else None,
        actor=(ctx.username if ctx else None) or actor or "system",
        action=action,
        entity_type=entity_type,
        entity_id=None if entity_id is None else str(entity_id),
        old_values=jsonable(old) if old is not None else None,
        new_values=jsonable(new) if new is not None else None,
        via_ai=bool(ctx and ctx.via_ai),
        # An ERP service called by an AI action links its entry to the chat message.
        conversation_message_id=conversation_message_id
        if conversation_message_id is not None
        else (ctx.extra.get("conversation_message_id") if ctx else None),
    )
    if _queueing(session):
        _QUEUE.put(session, _Queued(_columns(entry), entry))
        return entry
    head = _lock_head(session, chain)
    entry.seq = head.seq + 1
    entry.created_at = utcnow()
    entry.prev_hash = head.hash
    entry.hash = _digest(entry)
    session.add(entry)
    head.seq, head.hash = entry.seq, entry.hash
    session.flush()
    return entry


def record_many(
    session: Session,
    ctx: RequestContext,
    action: str,
    entity_type: str,
    changes: Sequence[tuple[int | str, dict[str, Any] | None, dict[str, Any] | None]],
) -> int:
    """Append one entry per ``(entity_id, old, new)``, in order: the same chain and hashes as
    that many ``record`` calls, with the chain's head locked and written once (bulk imports).
    Inside ``written_last`` they are queued like ``record``'s.
    """
    if not changes:
        return 0
    chain = f"company:{ctx.company_id}"
    link = ctx.extra.get("conversation_message_id")
    rows: list[dict[str, Any]] = [
        {
            "chain": chain,
            "company_id": ctx.company_id,
            "actor_user_id": ctx.user_id,
            "actor": ctx.username or "system",
            "action": action,
            "entity_type": entity_type,
            "entity_id": str(entity_id),
            "old_values": jsonable(old) if old is not None else None,
            "new_values": jsonable(new) if new is not None else None,
            "via_ai": bool(ctx.via_ai),
            "conversation_message_id": link,
        }
        for entity_id, old, new in changes
    ]
    if _queueing(session):
        _QUEUE.put(session, *(_Queued(row, None) for row in rows))
    else:
        _append(session, chain, rows)
    return len(rows)


def _lock_head(session: Session, chain: str) -> AuditHead:
    """The chain's head, locked until the transaction ends (created at genesis if new)."""
    head = session.execute(
        select(AuditHead).where(AuditHead.chain == chain).with_for_update()
    ).scalar_one_or_none()
    if head is None:
        head = AuditHead(chain=chain, seq=0, hash=GENESIS)
        session.add(head)
    return head


def _append(session: Session, chain: str, rows: list[dict[str, Any]]) -> None:
    """Chain ``rows`` (column values without seq, time and hashes) onto ``chain``, in order."""
    head = _lock_head(session, chain)
    seq, prev, now = head.seq, head.hash, utcnow()
    for row in rows:
        seq += 1
        row.update(seq=seq, created_at=now, prev_hash=prev)
        row["hash"] = prev = _digest_values(row)
    # One multi-row INSERT (no ORM objects to track): the entries are written, not read back.
    session.execute(insert(AuditEntry), rows)
    head.seq, head.hash = seq, prev
    session.flush()


# --- entries written last -------------------------------------------------------------------

_DEPTH = "companion.audit.depth"  # session.info: how many ``written_last`` scopes are open

_COLUMNS = (
    "chain",
    "company_id",
    "actor_user_id",
    "actor",
    "action",
    "entity_type",
    "entity_id",
    "old_values",
    "new_values",
    "via_ai",
    "conversation_message_id",
)


@dataclass(frozen=True)
class _Queued:
    """An entry waiting to be chained: its columns and the object ``record`` returned."""

    row: dict[str, Any]
    entry: AuditEntry | None


def _columns(entry: AuditEntry) -> dict[str, Any]:
    return {column: getattr(entry, column) for column in _COLUMNS}


def _queueing(session: Session) -> bool:
    """Whether a ``written_last`` scope is open: entries are queued, not chained at once."""
    return bool(session.info.get(_DEPTH))


@contextmanager
def written_last(session: Session) -> Iterator[None]:
    """Queue the audit entries recorded inside, and chain and write them when it ends.

    The chain's head is then locked only from the scope's end to the commit: open it around
    everything a transaction does and leave it just before committing. Scopes nest (the
    outermost writes). What is queued when an error leaves the scope goes with the
    transaction: written if it still commits (a refused action's failed state is committed),
    dropped if it rolls back; a commit inside writes the queue first.
    """
    depth = session.info.get(_DEPTH, 0)
    session.info[_DEPTH] = depth + 1
    try:
        yield
    finally:
        session.info[_DEPTH] = depth
    if depth == 0:
        write_queued(session)


def write_queued(session: Session) -> None:
    """Chain and write the queued entries now: each chain's head locked once, in chain order."""
    _QUEUE.flush(session)


def _chain(session: Session, queued: list[_Queued]) -> None:
    by_chain: dict[str, list[_Queued]] = {}
    for item in queued:
        by_chain.setdefault(item.row["chain"], []).append(item)
    # Heads in a fixed order, so two transactions writing two chains cannot deadlock.
    for chain in sorted(by_chain):
        items = by_chain[chain]
        _append(session, chain, [item.row for item in items])
        for item in items:
            if item.entry is not None:
                for column in ("seq", "created_at", "prev_hash", "hash"):
                    setattr(item.entry, column, item.row[column])


# Entries recorded in a transaction (or savepoint) that rolled back are never written; the
# rest are written in the transaction that recorded them, whatever commits it.
_QUEUE: TransactionQueue[_Queued] = TransactionQueue("companion.audit.queue", _chain)


@dataclass
class VerifyReport:
    """What ``verify`` found: an empty ``problems`` list means the log is intact."""

    chains: int = 0
    entries: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def company_chain(company_id: int) -> str:
    """The name of a company's chain."""
    return f"company:{company_id}"


def verify(session: Session, chains: set[str] | None = None) -> VerifyReport:
    """Recompute every chain (or only ``chains``) and compare with the stored hashes and heads."""
    report = VerifyReport()
    heads = {h.chain: h for h in session.execute(select(AuditHead)).scalars()}
    found = set(heads) | set(session.execute(select(AuditEntry.chain).distinct()).scalars())
    # A chain asked for that has no entry and no head is empty: nothing to check.
    chains = found if chains is None else found & chains
    for chain in sorted(chains):
        report.chains += 1
        prev, expected_seq = GENESIS, 1
        rows = session.execute(
            select(AuditEntry).where(AuditEntry.chain == chain).order_by(AuditEntry.seq)
        ).scalars()
        for entry in rows:
            report.entries += 1
            where = f"{chain} #{entry.seq} (id {entry.id})"
            if entry.seq != expected_seq:
                report.problems.append(f"{where}: entries before it are missing")
            if entry.prev_hash != prev:
                report.problems.append(f"{where}: does not link to the entry before it")
            if _digest(entry) != entry.hash:
                report.problems.append(f"{where}: content does not match its hash (edited)")
            prev, expected_seq = entry.hash, entry.seq + 1
        head = heads.get(chain)
        if head is None:
            report.problems.append(f"{chain}: has entries but no head")
        elif head.seq != expected_seq - 1 or head.hash != prev:
            report.problems.append(
                f"{chain}: the last entries are missing (head at #{head.seq}, "
                f"log ends at #{expected_seq - 1})"
            )
    return report
