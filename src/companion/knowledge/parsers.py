"""Files to text: Markdown, plain text, HTML, PDF and DOCX become one light Markdown form.

Every parser returns headings as ``#`` lines and paragraphs separated by blank lines, so the
chunker knows one format. Bad files raise clear errors: an unsupported type is a 415, an
empty or unreadable file a 422, a file over the limits a 413; never a 500.
"""

from __future__ import annotations

import io
import re
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

import yaml

from companion.errors import PayloadTooLarge, UnsupportedMediaType, ValidationFailed

MARKDOWN, TEXT, HTML, PDF, DOCX = "markdown", "text", "html", "pdf", "docx"
MEDIA_TYPES = {
    MARKDOWN: "text/markdown",
    TEXT: "text/plain",
    HTML: "text/html",
    PDF: "application/pdf",
    DOCX: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}
_EXTENSIONS = {
    ".md": MARKDOWN,
    ".markdown": MARKDOWN,
    ".txt": TEXT,
    ".text": TEXT,
    ".html": HTML,
    ".htm": HTML,
    ".pdf": PDF,
    ".docx": DOCX,
}
_BY_MEDIA_TYPE = {v: k for k, v in MEDIA_TYPES.items()} | {
    "text/x-markdown": MARKDOWN,
    "application/xhtml+xml": HTML,
    "application/x-pdf": PDF,
}
SUPPORTED = sorted(_EXTENSIONS)


class EmptyDocument(ValidationFailed):
    """The file or text has nothing to index."""

    code = "empty_document"


class UnreadableDocument(ValidationFailed):
    """The file claims a format it does not hold (a corrupt PDF, a broken DOCX)."""

    code = "unreadable_document"


@dataclass(frozen=True)
class ParsedDocument:
    """A file's text in light Markdown, its own title if it has one, and what was found."""

    text: str
    title: str | None
    kind: str
    media_type: str
    meta: dict[str, Any] = field(default_factory=dict)
    pages: int | None = None


def detect_kind(filename: str | None, content_type: str | None, data: bytes) -> str:
    """The format of an upload: by extension, then declared type, then the bytes."""
    suffix = PurePath(filename or "").suffix.lower()
    if suffix in _EXTENSIONS:
        return _EXTENSIONS[suffix]
    declared = (content_type or "").split(";")[0].strip().lower()
    if declared in _BY_MEDIA_TYPE:
        return _BY_MEDIA_TYPE[declared]
    if data.startswith(b"%PDF-"):
        return PDF
    if data.startswith(b"PK\x03\x04") and b"word/" in data[:4096]:
        return DOCX
    raise UnsupportedMediaType(
        f"Unsupported file type{f' {suffix}' if suffix else ''}: upload Markdown, plain text, "
        "HTML, PDF or DOCX",
        details={"filename": filename, "content_type": content_type, "supported": SUPPORTED},
    )


def parse(
    data: bytes,
    *,
    filename: str | None = None,
    content_type: str | None = None,
    max_pages: int = 300,
) -> ParsedDocument:
    """Parse an uploaded file into light Markdown (raises a 4xx error for bad files)."""
    if not data or not data.strip():
        raise EmptyDocument("The file is empty", details={"filename": filename})
    kind = detect_kind(filename, content_type, data)
    if kind == PDF:
        parsed = _parse_pdf(data, filename, max_pages)
    elif kind == DOCX:
        parsed = _parse_docx(data, filename)
    elif kind == HTML:
        parsed = parse_html(_decode(data, filename))
    elif kind == MARKDOWN:
        parsed = parse_markdown(_decode(data, filename))
    else:
        parsed = parse_plain_text(_decode(data, filename))
    if not parsed.text.strip():
        raise EmptyDocument(
            "The file has no text to index"
            + (" (a scanned PDF needs OCR first)" if kind == PDF else ""),
            details={"filename": filename, "kind": kind},
        )
    return parsed


def _decode(data: bytes, filename: str | None) -> str:
    if b"\x00" in data[:8192]:
        raise UnreadableDocument("The file is binary, not text", details={"filename": filename})
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UnreadableDocument(
            "The text is not UTF-8; save it as UTF-8 and upload it again",
            details={"filename": filename, "position": exc.start},
        ) from exc


# --- Markdown -----------------------------------------------------------------------------

_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?)\n---[ \t]*(?:\n|\Z)", re.DOTALL)
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_TABLE_RULE = re.compile(r"^\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_EMPHASIS = re.compile(r"(\*\*|__|\*|_)(?=\S)(.+?)(?<=\S)\1")
_SCRIPT = re.compile(r"<(script|style)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"</?[A-Za-z][^>]*>")


def front_matter(text: str) -> tuple[dict[str, Any], str]:
    """A leading YAML block (``---``) as a dict, and the text after it."""
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, text
    try:
        meta = yaml.safe_load(match.group(1))
    except yaml.YAMLError as exc:
        raise UnreadableDocument(
            "The front matter (the block between --- lines) is not valid YAML"
        ) from exc
    if not isinstance(meta, dict):
        return {}, text
    return meta, text[match.end() :]


def inline(text: str) -> str:
    """Markdown inline markup removed: links keep their text, emphasis its words."""
    text = _LINK.sub(r"\1", text)
    text = _EMPHASIS.sub(r"\2", text)
    text = text.replace("`", "")
    return _TAG.sub("", text)


def _table_lines(rows: list[list[str]]) -> list[str]:
    """A table as one line per row, each cell named by its column.

    "| Dhaka | BDT 6,000 | BDT 9,000 |" under "Place | Staff | Managers" becomes
    "Dhaka — Staff: BDT 6,000; Managers: BDT 9,000." so a row reads as a sentence.
    """
    if not rows:
        return []
    header, body = rows[0], rows[1:]
    if not body:
        return ["; ".join(c for c in header if c) + "."]
    lines = []
    for row in body:
        cells = [f"{h}: {c}" if h else c for h, c in zip(header[1:], row[1:], strict=False) if c]
        label = row[0] if row else ""
        lines.append(f"{label} — {'; '.join(cells)}." if cells else f"{label}.")
    return lines


def parse_markdown(text: str) -> ParsedDocument:
    """Markdown (with optional YAML front matter) normalised: headings, paragraphs, tables."""
    meta, body = front_matter(text.replace("\r\n", "\n").replace("\r", "\n"))
    body = _SCRIPT.sub("", body)
    out: list[str] = []
    title: str | None = str(meta["title"]) if meta.get("title") else None
    table: list[list[str]] = []
    in_code = False

    def flush_table() -> None:
        if table:
            out.extend(["", *_table_lines(table), ""])
            table.clear()

    for raw in body.split("\n"):
        line = raw.rstrip()
        if line.lstrip().startswith("```"):
            in_code = not in_code
            continue
        if in_code:
            out.append(line)
            continue
        stripped = line.strip()
        if stripped.startswith("|"):
            if not _TABLE_RULE.match(stripped):
                table.append([inline(c.strip()) for c in stripped.strip("|").split("|")])
            continue
        flush_table()
        heading = _HEADING.match(stripped)
        if heading:
            words = inline(heading.group(2))
            if title is None and len(heading.group(1)) == 1:
                title = words
            out.extend(["", f"{heading.group(1)} {words}", ""])
        elif re.match(r"^[-*+]\s+", stripped):
            out.append("- " + inline(stripped[2:].strip()))
        else:
            # Emphasis spanning lines leaves a lone marker at either end.
            out.append(re.sub(r"^\*+(?=\S)|(?<=\S)\*+$", "", inline(stripped)))
    flush_table()
    return ParsedDocument(
        text=_tidy(out), title=title, kind=MARKDOWN, media_type=MEDIA_TYPES[MARKDOWN], meta=meta
    )


def _tidy(lines: list[str]) -> str:
    """Joined lines with runs of blank lines collapsed to one."""
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip() + "\n"


# --- plain text ---------------------------------------------------------------------------

_PAGE_NUMBER = re.compile(r"^\s*(page\s+)?\d{1,4}\s*$", re.IGNORECASE)
_NUMBERED_CAPS = re.compile(
    r"^(\d+(\.\d+)*\.?|section\s+\d+:?)?\s*([A-Z][A-Z0-9 ,&/()'’:-]{2,78})$"
)


def _is_caps_heading(line: str) -> bool:
    match = _NUMBERED_CAPS.match(line)
    if not match or line.endswith((".", ",", ";")):
        return False
    letters = [c for c in match.group(3) if c.isalpha()]
    return len(letters) >= 3 and len(line.split()) <= 12


def parse_plain_text(text: str) -> ParsedDocument:
    """Plain text: blank-line paragraphs; ALL-CAPS lines and underlined lines are headings."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    out: list[str] = []
    paragraph: list[str] = []
    title: str | None = None

    def flush() -> None:
        if paragraph:
            out.extend([" ".join(paragraph), ""])
            paragraph.clear()

    for i, raw in enumerate(lines):
        line = re.sub(r"\s+", " ", raw).strip()
        nxt = lines[i + 1].strip() if i + 1 < len(lines) else ""
        if not line or _PAGE_NUMBER.match(line):
            flush()
            continue
        if re.fullmatch(r"[=-]{3,}", line):
            continue  # the underline of the heading handled below
        if re.fullmatch(r"[=-]{3,}", nxt) and len(line) <= 100:
            flush()
            level = 1 if nxt.startswith("=") else 2
            title = title or (line if level == 1 else None)
            out.extend([f"{'#' * level} {line}", ""])
        elif _is_caps_heading(line):
            flush()
            out.extend([f"## {line}", ""])
        else:
            paragraph.append(line)
    flush()
    return ParsedDocument(text=_tidy(out), title=title, kind=TEXT, media_type=MEDIA_TYPES[TEXT])


# --- HTML ---------------------------------------------------------------------------------

_DROPPED_TAGS = ("script", "style", "noscript", "template", "iframe", "object", "embed", "svg")
_BLOCKS = ("h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "tr", "pre", "blockquote", "dt", "dd")


def parse_html(text: str) -> ParsedDocument:
    """HTML: scripts, styles and embeds removed; headings and blocks kept in order."""
    from bs4 import BeautifulSoup, MarkupResemblesLocatorWarning, Tag, XMLParsedAsHTMLWarning

    with warnings.catch_warnings():
        # An upload that looks like a file name, or XHTML, is still parsed as HTML on purpose.
        warnings.simplefilter("ignore", MarkupResemblesLocatorWarning)
        warnings.simplefilter("ignore", XMLParsedAsHTMLWarning)
        soup = BeautifulSoup(text, "html.parser")
    removed = 0
    for name in _DROPPED_TAGS:
        for tag in soup.find_all(name):
            removed += 1
            tag.decompose()
    title_tag = soup.find("title")
    title = title_tag.get_text(" ", strip=True) if isinstance(title_tag, Tag) else None
    if isinstance(title_tag, Tag):
        title_tag.decompose()
    out: list[str] = []
    for block in soup.find_all(_BLOCKS):
        if not isinstance(block, Tag) or block.find_parent(_BLOCKS) is not None:
            continue  # text of a block inside another block is taken with the outer one
        if block.name == "tr":
            cells = [c.get_text(" ", strip=True) for c in block.find_all(["td", "th"])]
            words = " | ".join(c for c in cells if c)
        else:
            words = block.get_text(" ", strip=True)
        words = re.sub(r"\s+", " ", words)
        if not words:
            continue
        if block.name[0] == "h" and block.name[1:].isdigit():
            level = int(block.name[1:])
            if level == 1 and not title:
                title = words
            out.extend([f"{'#' * level} {words}", ""])
        elif block.name == "li":
            out.append(f"- {words}")
        else:
            out.extend([words, ""])
    if not out:  # no block markup at all: keep the bare text
        out = [re.sub(r"[ \t]+", " ", soup.get_text("\n", strip=True))]
    return ParsedDocument(
        text=_tidy(out),
        title=title or None,
        kind=HTML,
        media_type=MEDIA_TYPES[HTML],
        meta={"removed_elements": removed},
    )


# --- PDF ----------------------------------------------------------------------------------


def _parse_pdf(data: bytes, filename: str | None, max_pages: int) -> ParsedDocument:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    if not data.startswith(b"%PDF-"):
        raise UnreadableDocument("The file is not a PDF", details={"filename": filename})
    # pypdf raises more than its own errors on damaged files; all mean "cannot read it".
    damaged = (PyPdfError, ValueError, KeyError, TypeError, IndexError, AttributeError, OSError)
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise UnreadableDocument(
                "The PDF is password protected", details={"filename": filename}
            )
        pages = len(reader.pages)
        if pages > max_pages:
            raise PayloadTooLarge(
                f"The PDF has {pages} pages; the limit here is {max_pages} "
                "(an administrator can add longer documents with `companion ingest`)",
                details={"filename": filename, "pages": pages, "max_pages": max_pages},
            )
        texts = [page.extract_text() or "" for page in reader.pages]
        info_title = reader.metadata.title if reader.metadata else None
    except damaged as exc:
        raise UnreadableDocument(
            "The PDF is damaged and cannot be read",
            details={"filename": filename, "reason": type(exc).__name__},
        ) from exc
    return ParsedDocument(
        text=pdf_text(texts),
        title=str(info_title) if info_title else None,
        kind=PDF,
        media_type=MEDIA_TYPES[PDF],
        pages=pages,
    )


def pdf_text(pages: list[str]) -> str:
    """Page texts joined: hyphenated breaks mended, short title-like lines made headings."""
    out: list[str] = []
    paragraph: list[str] = []

    def flush() -> None:
        if paragraph:
            out.extend([re.sub(r"\s+", " ", " ".join(paragraph)), ""])
            paragraph.clear()

    for page in pages:
        page = re.sub(r"(\w)-\n(\w)", r"\1\2", page)
        for raw in page.split("\n"):
            line = raw.strip()
            if not line or _PAGE_NUMBER.match(line):
                flush()
                continue
            if _looks_like_pdf_heading(line, paragraph):
                flush()
                out.extend([f"## {line}", ""])
            else:
                paragraph.append(line)
                if line.endswith((".", ":", "?", "!")) and len(line) < 60:
                    flush()  # a short line ending a sentence ends its paragraph
        flush()
    return _tidy(out)


def _looks_like_pdf_heading(line: str, paragraph: list[str]) -> bool:
    if _is_caps_heading(line):
        return True
    words = line.split()
    if not words or len(words) > 8 or len(line) > 70 or line[-1] in ".,;:!?":
        return False
    starts = line[0].isupper() or re.match(r"^\d+(\.\d+)*\.?\s+[A-Z]", line) is not None
    # A title-like line only counts after a finished sentence (or at the top).
    after_break = not paragraph or paragraph[-1].endswith((".", ":", "!", "?"))
    return bool(starts and after_break and sum(w[0].isupper() for w in words) >= len(words) / 2)


# --- DOCX ---------------------------------------------------------------------------------


def _parse_docx(data: bytes, filename: str | None) -> ParsedDocument:
    from docx import Document
    from docx.opc.exceptions import PackageNotFoundError
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        document = Document(io.BytesIO(data))
        blocks = list(document.iter_inner_content())
        core_title = document.core_properties.title
    except (zipfile.BadZipFile, PackageNotFoundError, KeyError, ValueError) as exc:
        raise UnreadableDocument(
            "The Word document is damaged or not a .docx file",
            details={"filename": filename, "reason": type(exc).__name__},
        ) from exc
    out: list[str] = []
    title: str | None = core_title or None
    for block in blocks:
        if isinstance(block, Paragraph):
            words = re.sub(r"\s+", " ", block.text).strip()
            if not words:
                continue
            style = (block.style.name if block.style is not None else "") or ""
            level = _docx_heading_level(style)
            if level:
                if level == 1 and title is None:
                    title = words
                out.extend([f"{'#' * level} {words}", ""])
            elif "list" in style.lower():
                out.append(f"- {words}")
            else:
                out.extend([words, ""])
        elif isinstance(block, Table):
            rows = [[c.text.strip() for c in row.cells] for row in block.rows]
            out.extend(["", *_table_lines(rows), ""])
    return ParsedDocument(text=_tidy(out), title=title, kind=DOCX, media_type=MEDIA_TYPES[DOCX])


def _docx_heading_level(style: str) -> int:
    if style == "Title":
        return 1
    match = re.fullmatch(r"Heading (\d)", style)
    return int(match.group(1)) if match else 0
