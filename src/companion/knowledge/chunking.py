"""Splitting a document's light Markdown into chunks that keep sections together.

Strategy ``heading`` (the default) splits on headings first, then packs a section's
paragraphs up to ``max_chars``; a paragraph too long for one chunk is split into sentences,
and a sentence too long into words. Consecutive chunks of one section overlap by about
``overlap_chars`` (whole sentences), and every chunk starts with its heading path, so a
chunk read alone still says what it is about. ``paragraph`` packs paragraphs across
section boundaries; ``fixed`` is a plain sliding window of words (a baseline).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

STRATEGIES = ("heading", "paragraph", "fixed")


@dataclass(frozen=True)
class ChunkingOptions:
    """How documents are cut; sizes are characters of chunk body (the heading not counted)."""

    strategy: str = "heading"
    max_chars: int = 1200
    overlap_chars: int = 150
    min_chars: int = 40

    @classmethod
    def from_settings(cls, rag: Any) -> ChunkingOptions:
        """The options configured in ``settings.rag`` (chunk_strategy, chunk_*_chars)."""
        return cls(
            strategy=rag.chunk_strategy,
            max_chars=rag.chunk_max_chars,
            overlap_chars=rag.chunk_overlap_chars,
        )

    def __post_init__(self) -> None:
        if self.strategy not in STRATEGIES:
            raise ValueError(f"unknown chunking strategy {self.strategy!r}; use {STRATEGIES}")
        if self.max_chars < 100 or not 0 <= self.overlap_chars < self.max_chars // 2:
            raise ValueError("need max_chars >= 100 and 0 <= overlap_chars < max_chars / 2")


@dataclass(frozen=True)
class Chunk:
    """One piece of a document: its position, heading path and text (heading line first)."""

    ordinal: int
    section: str | None
    text: str


@dataclass
class Section:
    """The paragraphs under one heading path."""

    path: tuple[str, ...]
    paragraphs: list[str]


_HEADING = re.compile(r"^(#{1,6})\s+(.*)$")
_ABBREVIATIONS = (
    "e.g.",
    "i.e.",
    "etc.",
    "vs.",
    "no.",
    "ext.",
    "mr.",
    "mrs.",
    "ms.",
    "dr.",
    "approx.",
    "incl.",
    "fig.",
    "st.",
)
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"”’)]*\s+(?=[\"“(\[]?[A-Z0-9])")


def split_sentences(text: str) -> list[str]:
    """Sentences of ``text``; list items and lines of a table are sentences of their own."""
    sentences: list[str] = []
    for line in text.split("\n"):
        line = line.strip()
        if not line:
            continue
        start = 0
        for match in _SENTENCE_END.finditer(line):
            candidate = line[start : match.start()].strip()
            # "(i.e. Sunday)": the abbreviation may open a bracket or a quote.
            last_word = candidate.rsplit(" ", 1)[-1].lower().lstrip("([{\"“‘'")
            if last_word in _ABBREVIATIONS or re.fullmatch(r"(?:[a-z]\.)+", last_word):
                continue  # "e.g. Dhaka", "2 p.m. When", "the U.S. Army" stay one sentence
            if re.fullmatch(r"\(?\d{1,3}[.)]", candidate):
                continue  # a numbered list's marker ("1. Open ...") starts the sentence
            sentences.append(candidate)
            start = match.end()
        tail = line[start:].strip()
        if tail:
            sentences.append(tail)
    return [s for s in sentences if s]


def sections(text: str) -> list[Section]:
    """The document as sections: heading paths and their paragraphs, in order."""
    result: list[Section] = [Section((), [])]
    path: list[tuple[int, str]] = []
    block: list[str] = []

    def flush_block() -> None:
        if block:
            result[-1].paragraphs.append(_join_block(block))
            block.clear()

    for raw in text.split("\n"):
        line = raw.strip()
        heading = _HEADING.match(line)
        if heading:
            flush_block()
            level = len(heading.group(1))
            path = [(lvl, words) for lvl, words in path if lvl < level]
            path.append((level, heading.group(2).strip()))
            result.append(Section(tuple(words for _, words in path), []))
        elif not line:
            flush_block()
        else:
            block.append(line)
    flush_block()
    return [s for s in result if s.paragraphs]


def _join_block(lines: list[str]) -> str:
    """Lines of one block: list items on lines of their own, wrapped lines joined."""
    items: list[str] = []
    for line in lines:
        if line.startswith("- ") or not items:
            items.append(line)
        elif items[-1].endswith((".", ":")) and _is_row(line):
            items.append(line)  # rows of a converted table stay one per line
        else:
            items[-1] = f"{items[-1]} {line}"
    return "\n".join(items)


def _is_row(line: str) -> bool:
    return " — " in line and line.endswith(".")


def chunk_document(text: str, *, title: str, options: ChunkingOptions | None = None) -> list[Chunk]:
    """Cut a parsed document into chunks (ordinals from 0); ``title`` leads every chunk."""
    options = options or ChunkingOptions()
    found = sections(text)
    path_of = _section_namer(found, title)
    if options.strategy == "fixed":
        words = " ".join(p for s in found for p in s.paragraphs).split()
        return [
            Chunk(i, None, f"{title}\n{body}") for i, body in enumerate(_window(words, options))
        ]
    pieces: list[tuple[str | None, str]] = []
    if options.strategy == "paragraph":
        units = [(path_of(s), p) for s in found for p in s.paragraphs]
        for section, body in _pack_units(units, options):
            pieces.append((section, body))
    else:
        for s in found:
            section = path_of(s)
            pieces.extend((section, body) for body in _pack(s.paragraphs, options))
    pieces = _merge_tiny(pieces, options)
    return [
        Chunk(i, section, f"{title} > {section}\n{body}" if section else f"{title}\n{body}")
        for i, (section, body) in enumerate(pieces)
    ]


def _section_namer(found: list[Section], title: str) -> _Namer:
    """Names sections by heading path, leaving out a heading every section shares.

    That shared top heading is the document's own title (its H1), which leads every chunk
    anyway as ``title``.
    """
    paths = [s.path for s in found if s.path]
    shared = bool(paths) and len({p[0] for p in paths}) == 1
    return _Namer(shared)


class _Namer:
    def __init__(self, drop_first: bool) -> None:
        self.drop_first = drop_first

    def __call__(self, section: Section) -> str | None:
        path = section.path[1:] if self.drop_first else section.path
        return " > ".join(path) or None


def _pack(paragraphs: list[str], options: ChunkingOptions) -> list[str]:
    """One section's paragraphs packed into bodies of at most ``max_chars``, overlapping."""
    units: list[str] = []
    for paragraph in paragraphs:
        if len(paragraph) <= options.max_chars:
            units.append(paragraph)
        else:
            units.extend(_long_sentences_split(split_sentences(paragraph), options.max_chars))
    bodies: list[str] = []
    current: list[str] = []
    for unit in units:
        size = sum(len(u) + 1 for u in current) + len(unit)
        if current and size > options.max_chars:
            bodies.append("\n".join(current))
            current = _overlap(current, options.overlap_chars)
            if sum(len(u) + 1 for u in current) + len(unit) > options.max_chars:
                current = []
        current.append(unit)
    if current:
        bodies.append("\n".join(current))
    return bodies


def _pack_units(
    units: list[tuple[str | None, str]], options: ChunkingOptions
) -> list[tuple[str | None, str]]:
    """Paragraphs packed across sections; a chunk is named by its first paragraph's section."""
    result: list[tuple[str | None, str]] = []
    current: list[str] = []
    section: str | None = None
    for unit_section, paragraph in units:
        for body in _pack([paragraph], options):
            if current and sum(len(c) + 1 for c in current) + len(body) > options.max_chars:
                result.append((section, "\n".join(current)))
                current = []
            if not current:
                section = unit_section
            current.append(body)
    if current:
        result.append((section, "\n".join(current)))
    return result


def _overlap(units: list[str], overlap_chars: int) -> list[str]:
    """The last whole sentences of ``units`` that fit in ``overlap_chars``."""
    if overlap_chars <= 0:
        return []
    sentences = split_sentences("\n".join(units))
    kept: list[str] = []
    for sentence in reversed(sentences):
        if sum(len(k) + 1 for k in kept) + len(sentence) > overlap_chars:
            break
        kept.insert(0, sentence)
    return [" ".join(kept)] if kept else []


def _long_sentences_split(sentences: list[str], max_chars: int) -> list[str]:
    """Sentences, with any longer than ``max_chars`` cut between words."""
    result: list[str] = []
    for sentence in sentences:
        if len(sentence) <= max_chars:
            result.append(sentence)
            continue
        words, piece = sentence.split(), ""
        for word in words:
            if piece and len(piece) + 1 + len(word) > max_chars:
                result.append(piece)
                piece = word
            else:
                piece = f"{piece} {word}".strip()
        if piece:
            result.append(piece)
    return result


def _window(words: list[str], options: ChunkingOptions) -> list[str]:
    """A sliding window of words: ``max_chars`` long, stepping back ``overlap_chars``."""
    bodies: list[str] = []
    start = 0
    while start < len(words):
        end, size = start, 0
        while end < len(words) and (
            size + len(words[end]) + 1 <= options.max_chars or end == start
        ):
            size += len(words[end]) + 1
            end += 1
        bodies.append(" ".join(words[start:end]))
        if end >= len(words):
            break
        back, overlap = end, 0
        while back > start + 1 and overlap + len(words[back - 1]) + 1 <= options.overlap_chars:
            back -= 1
            overlap += len(words[back]) + 1
        start = back
    return bodies


def _merge_tiny(
    pieces: list[tuple[str | None, str]], options: ChunkingOptions
) -> list[tuple[str | None, str]]:
    """A body under ``min_chars`` joins the next chunk of the same section when it fits."""
    merged: list[tuple[str | None, str]] = []
    for section, body in pieces:
        if (
            merged
            and len(merged[-1][1]) < options.min_chars
            and merged[-1][0] == section
            and len(merged[-1][1]) + len(body) + 1 <= options.max_chars
        ):
            merged[-1] = (section, f"{merged[-1][1]}\n{body}")
        else:
            merged.append((section, body))
    return merged
