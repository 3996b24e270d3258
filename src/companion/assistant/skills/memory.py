"""The memory skill: "remember that ...", "remind me to ... tomorrow", "what do you remember?"."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from companion.assistant.memory import phrases, recall
from companion.assistant.nlu import guard
from companion.assistant.skills.base import Answer, Turn, register
from companion.assistant.skills.knowledge import PolicySkill
from companion.assistant.understanding import load_master
from companion.errors import ValidationFailed
from companion.governance.memory import service as memories
from companion.governance.memory.models import GlobalMemory, Memory

_LISTED = 10
# What a question about the memories themselves names ("what do you remember about me?").
_ABOUT_MEMORY = re.compile(
    r"\b(?:remember\w*|remind\w*|memor\w*|notes?|noted|reminders?|forg[eo]t\w*|recall)\b"
    r"|/remember",
    re.IGNORECASE,
)


@register("remember")
class MemorySkill:
    name = "memory"
    writes = True  # memories kept: the turn is one write transaction

    def handle(self, turn: Turn) -> Answer:
        request = phrases.parse(turn.text, turn.today)
        if request is None and guard.asks(turn.text) and not _ABOUT_MEMORY.search(turn.text):
            # Neither something to keep nor a question about what is kept ("what discount
            # can I give a customer who pays early?"): a question for the documents.
            return PolicySkill().handle(turn)
        if request is None:
            return self._recite(turn)
        now = turn.now or memories_now(turn)
        try:
            kept = recall.keep(
                turn.session,
                turn.ctx,
                request.text,
                master=load_master(turn.session, turn.ctx),
                today=turn.today,
                now=now,
                embedder=turn.memory_embedder,
                kind=request.kind,
                due_on=request.due_on,
                source="chat",
                conversation_id=turn.conversation_id,
            )
        except ValidationFailed as refused:  # too long for a memory: said, not a 422
            return Answer(text=f"I can't keep that: {refused.message}.", skill=self.name)
        memory = kept.memory
        quoted = f"“{memory.text}”"
        if kept.action == "duplicate":
            text = f"I already remember that: {quoted}."
        elif kept.action == "update":
            text = f"Updated what I remember: {quoted}."
        elif request.kind == "reminder" and request.due_on is not None:
            text = f"I'll remind you on {request.due_on.isoformat()}: {quoted}."
        elif request.kind == "reminder":
            text = f"I'll keep this reminder: {quoted}."
        else:
            text = f"I'll remember that: {quoted}."
        return Answer(
            text=text,
            skill=self.name,
            data={"memory": {**describe(memory), "action": kept.action}},
        )

    def _recite(self, turn: Turn) -> Answer:
        now = turn.now or memories_now(turn)
        rows, total = memories.list_memories(turn.session, turn.ctx, now, limit=_LISTED)
        if not rows:
            return Answer(
                text="I don't remember anything for you yet. Say “remember that …” or "
                "“remind me to … tomorrow”.",
                skill=self.name,
                data={"memories": [], "total": 0},
            )
        lines = [
            f"- {m.text}" + (f" (due {m.due_on.isoformat()})" if m.due_on else "") for m in rows
        ]
        more = f"\n…and {total - len(rows)} more." if total > len(rows) else ""
        return Answer(
            text="Here's what I remember:\n" + "\n".join(lines) + more,
            skill=self.name,
            data={"memories": [describe(m) for m in rows], "total": total},
        )


def memories_now(turn: Turn) -> dt.datetime:
    """The turn's time (a turn made outside the assistant may not carry one)."""
    return dt.datetime.now(dt.UTC)


def describe(memory: Memory | GlobalMemory) -> dict[str, Any]:
    """A memory as the chat response and the API show it."""
    due_on = getattr(memory, "due_on", None)
    return {
        "id": memory.id,
        "scope": getattr(memory, "scope", "global"),
        "kind": memory.kind,
        "retention": memory.retention,
        "text": memory.text,
        "due_on": due_on.isoformat() if due_on is not None else None,
        "expires_at": memory.expires_at.isoformat() if memory.expires_at else None,
    }
