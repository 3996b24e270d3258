"""Keeping a memory with the names it mentions, and reading references back from memory.

"The customer I mentioned" and "my usual warehouse" name no record; the newest memory the
caller may see that names a record of that kind fills the entity in, marked
``source: "memory"``. A memory only ever fills in the caller's own company's records: its
entities were resolved against that company's master data when it was saved, and the
data query scopes every read again, so a memory can never widen what a question reads.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from companion.assistant.nlu.entities import extract_entities
from companion.assistant.nlu.entities.master import MasterData
from companion.governance.memory import service as memories
from companion.governance.memory.service import Remembered, TextEmbedder
from companion.tenancy.context import RequestContext

# The entity kinds a memory can stand in for, under the words people use for them.
_KINDS = {
    "customer": "customer",
    "client": "customer",
    "supplier": "supplier",
    "vendor": "supplier",
    "product": "product",
    "item": "product",
    "warehouse": "warehouse",
    "godown": "warehouse",
    "store": "warehouse",
}
_NOUN = "(?P<noun>" + "|".join(_KINDS) + ")"
_REFERENCES = (
    re.compile(
        r"\b(?:the|that|this)\s+" + _NOUN + r"\s+(?:i|we)\s+(?:mentioned|told you about|"
        r"talked about|spoke about|said|noted|asked you to remember)\b",
        re.IGNORECASE,
    ),
    re.compile(
        r"\b(?:my|our)\s+(?:usual|regular|default|normal|preferred|main|favou?rite)\s+"
        + _NOUN
        + r"\b",
        re.IGNORECASE,
    ),
)
_SAVED_KINDS = ("customer", "supplier", "product", "warehouse")


def references(text: str) -> list[tuple[str, str]]:
    """The (entity kind, words) pairs a message points at through memory."""
    found: list[tuple[str, str]] = []
    for pattern in _REFERENCES:
        for match in pattern.finditer(text):
            found.append((_KINDS[match.group("noun").lower()], match.group(0)))
    return found


def resolve(
    session: Session,
    ctx: RequestContext,
    text: str,
    entities: dict[str, Any],
    now: dt.datetime,
) -> dict[str, Any]:
    """``entities`` with records the message refers to through memory filled in."""
    wanted = [(kind, words) for kind, words in references(text) if not entities.get(kind)]
    if not wanted:
        return entities
    rows, _ = memories.list_memories(session, ctx, now, limit=200)
    out = dict(entities)
    for kind, words in wanted:
        for memory in rows:  # newest first
            named = (memory.entities or {}).get(kind)
            if isinstance(named, dict) and named.get("id") is not None:
                out[kind] = {
                    "text": words,
                    "id": named["id"],
                    "name": named.get("name"),
                    "source": "memory",
                    "memory_id": memory.id,
                }
                break
    return out


def saved_entities(text: str, master: MasterData, today: dt.date) -> dict[str, Any]:
    """The master records a memory's text names, resolved in the caller's company."""
    found = extract_entities(text, today=today, master=master).entities
    out: dict[str, Any] = {}
    for kind in _SAVED_KINDS:
        value = found.get(kind)
        if isinstance(value, dict) and value.get("id") is not None:
            out[kind] = {"id": value["id"], "name": value.get("name")}
    return out


def keep(
    session: Session,
    ctx: RequestContext,
    text: str,
    *,
    master: MasterData,
    today: dt.date,
    now: dt.datetime,
    embedder: Callable[[], TextEmbedder] | None,
    kind: str = "fact",
    scope: str = "user",
    retention: str | None = None,
    due_on: dt.date | None = None,
    source: str = "chat",
    conversation_id: str | None = None,
) -> Remembered:
    """Remember ``text`` with the records it names (chat and the memory API both come here)."""
    return memories.remember(
        session,
        ctx,
        text,
        now=now,
        kind=kind,
        scope=scope,
        retention=retention,
        entities=saved_entities(text, master, today),
        due_on=due_on,
        source=source,
        conversation_id=conversation_id,
        embedder=embedder() if embedder is not None else None,
    )
