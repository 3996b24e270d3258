"""A stretch of a message that names something, shared by the extractors and delexicalisation."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Span:
    """Characters [start, end) of the text name something of type ``entity``."""

    start: int
    end: int
    entity: str
