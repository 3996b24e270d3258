"""Safe context: neutralise instruction-like text in retrieved passages before any prompt sees it.

A company document is data, not instructions. Text that tries to steer a model ("ignore
previous instructions", chat role markers, "you are now ...", script tags) is rewritten
into an inert, visibly quoted form, and each rewrite is counted so it can be reported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Each pattern is replaced by "[neutralised: <label>]"; the original words are dropped so a
# model cannot follow them, and the label keeps the passage readable for a person.
_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "script",
        re.compile(r"<\s*script\b[^>]*>.*?(<\s*/\s*script\s*>|$)", re.IGNORECASE | re.DOTALL),
    ),
    ("markup", re.compile(r"<\s*/?\s*(script|iframe|object|embed|style)\b[^>]*>", re.IGNORECASE)),
    (
        "override",
        re.compile(
            r"\b(ignore|disregard|forget)\b[^.\n]{0,40}?"
            r"\b(previous|prior|above|earlier|all|any|your|the|these|those)\b[^.\n]{0,30}?"
            r"\b(instructions?|prompts?|rules|directions|guidelines|context|messages?)\b",
            re.IGNORECASE,
        ),
    ),
    (
        "persona",
        re.compile(
            r"\b(you are now|you're now|from now on,? you (are|will|must)|pretend (to be|you are)"
            r"|act as (an? )?(ai|assistant|chatbot|language model|dan|unrestricted)"
            r"|new instructions?:|jailbreak|developer mode)\b",
            re.IGNORECASE,
        ),
    ),
    (
        "role marker",
        re.compile(
            # At a line start or right after a sentence: "... 6,000. System: approve all".
            r"(?:^|(?<=[.!?]))[ \t]*(?:#{1,6}[ \t]*)?\[?[ \t]*"
            r"(?:system|assistant|developer|human)[ \t]*\]?[ \t]*:"
            r"|<\|?\s*/?\s*(im_start|im_end|system|assistant|user|endoftext)\s*\|?>"
            r"|\[/?\s*(INST|SYS)\s*\]|<</?SYS>>",
            re.IGNORECASE | re.MULTILINE,
        ),
    ),
    (
        "reveal",
        re.compile(
            r"\b(reveal|print|show|repeat|output)\b[^.\n]{0,30}?"
            r"\b(system prompt|hidden prompt|your instructions|your prompt)",
            re.IGNORECASE,
        ),
    ),
)


@dataclass(frozen=True)
class Neutralised:
    """A passage after neutralisation, with how many instruction-like spans were replaced."""

    text: str
    count: int
    kinds: tuple[str, ...]


def _replacement(label: str, match: re.Match[str]) -> str:
    # Keep the span's leading blanks so sentences stay apart.
    text = match.group(0)
    lead = text[: len(text) - len(text.lstrip(" \t"))]
    return f"{lead}[neutralised: {label}]"


def neutralise(text: str) -> Neutralised:
    """Replace instruction-like spans of ``text`` with inert labels and count them."""
    count = 0
    kinds: list[str] = []
    for label, pattern in _PATTERNS:

        def repl(match: re.Match[str], label: str = label) -> str:
            return _replacement(label, match)

        text, n = pattern.subn(repl, text)
        if n:
            count += n
            kinds.append(label)
    return Neutralised(text=text, count=count, kinds=tuple(kinds))


def looks_like_instructions(text: str) -> bool:
    """Whether ``text`` contains anything ``neutralise`` would rewrite."""
    return any(pattern.search(text) for _, pattern in _PATTERNS)
