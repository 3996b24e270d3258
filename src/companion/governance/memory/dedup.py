"""Whether a new memory adds a fact, updates one, or repeats one (no fact is ever lost).

Rules first, the embedding second: the same normalised text is a duplicate; a text whose
meaning is close to an existing one (cosine >= ``DUPLICATE``) and adds no word, number or
name of its own is a duplicate too. A preference about the same subject (the same customer,
supplier, product or warehouse, and close in meaning) replaces the older one, which is kept
in the record's history. Anything else is added: two facts that differ in a figure or a
name are two facts.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

DUPLICATE = 0.92
SAME_SUBJECT = 0.6

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
# Words that carry no fact of their own: "remember that X" and "X" say the same thing.
_FILLER = frozenset(
    "a an the that this is are was be to of and please remember note our my we i it".split()
)
_SUBJECTS = ("customer", "supplier", "product", "warehouse")


def normalise(text: str) -> str:
    """Lower-case words joined by single spaces (what "the same text" means)."""
    return " ".join(_WORD.findall(text.lower()))


def text_hash(text: str) -> str:
    """The digest exact duplicates are found by."""
    return hashlib.sha256(normalise(text).encode("utf-8")).hexdigest()


def content_words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if w not in _FILLER}


def subject_of(entities: dict[str, Any] | None) -> tuple[str, Any] | None:
    """The first master record the memory is about ("customer", id), if any."""
    for kind in _SUBJECTS:
        value = (entities or {}).get(kind)
        if isinstance(value, dict) and value.get("id") is not None:
            return kind, value["id"]
    return None


@dataclass(frozen=True)
class Candidate:
    """An existing memory as the decision sees it."""

    id: int
    kind: str
    text: str
    text_hash: str
    vector: Sequence[float] | None
    entities: dict[str, Any] | None


@dataclass(frozen=True)
class Decision:
    action: Literal["add", "update", "duplicate"]
    existing_id: int | None = None
    similarity: float | None = None


def cosine(a: Sequence[float] | None, b: Sequence[float] | None) -> float | None:
    if a is None or b is None or len(a) != len(b) or not len(a):
        return None
    va, vb = np.asarray(a, dtype=np.float32), np.asarray(b, dtype=np.float32)
    denom = float(np.linalg.norm(va) * np.linalg.norm(vb))
    return float(va @ vb) / denom if denom else None


def decide(
    *,
    kind: str,
    text: str,
    vector: Sequence[float] | None,
    entities: dict[str, Any] | None,
    existing: Sequence[Candidate],
) -> Decision:
    """Add, update (which one) or duplicate (of which one) for a new memory."""
    digest = text_hash(text)
    for old in existing:
        if old.text_hash == digest:
            return Decision("duplicate", old.id, 1.0)
    words = content_words(text)
    subject = subject_of(entities)
    best: Decision | None = None
    for old in existing:
        similarity = cosine(vector, old.vector)
        if similarity is None:
            continue
        if similarity >= DUPLICATE and words <= content_words(old.text):
            return Decision("duplicate", old.id, round(similarity, 4))
        if (
            kind == "preference"
            and old.kind == "preference"
            and subject is not None
            and subject_of(old.entities) == subject
            and similarity >= SAME_SUBJECT
            and (best is None or (best.similarity or 0.0) < similarity)
        ):
            best = Decision("update", old.id, round(similarity, 4))
    return best or Decision("add")
