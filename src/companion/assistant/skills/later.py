"""Intents whose skills arrive with later work: memory."""

from __future__ import annotations

from companion.assistant.skills.base import Answer, Turn, register


@register("remember")
class MemoryNotYet:
    name = "memory"

    def handle(self, turn: Turn) -> Answer:
        return Answer(text="I can't remember things between conversations yet.", skill=self.name)
