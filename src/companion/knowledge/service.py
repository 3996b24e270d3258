"""Adding, replacing and removing knowledge documents, and keeping the indexes in step.

The database is the source of truth; the retrieval index is derived from it. Index changes
wait for the commit (``after_commit``): a rolled-back upload never reaches the index, and
an index that misses a change is rebuilt from the chunk table.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any, Protocol

from pydantic import ValidationError
from sqlalchemy.orm import Session

from companion.audit import service as audit
from companion.errors import PayloadTooLarge, ValidationFailed
from companion.kit.after_commit import after_commit
from companion.knowledge import repository as repo
from companion.knowledge.chunking import ChunkingOptions, chunk_document
from companion.knowledge.models import KnowledgeChunk, KnowledgeDocument
from companion.knowledge.parsers import EmptyDocument, ParsedDocument, parse, parse_markdown
from companion.knowledge.retrieval import ChunkDoc
from companion.knowledge.schemas import EntryIn, EntryMeta, IngestStatus
from companion.tenancy.context import RequestContext
from companion.tenancy.models import Company

GLOBAL_ACTOR = "help-corpus"
_INDEX_FAILED = "updating the knowledge index failed; rebuild it from the database"
# Words that say what kind of document it is, not what it is about.
_GENERIC = frozenset(
    "a an and about document faq for guide handbook how in manual note of on our policy "
    "procedure rule the to".split()
)


class IndexPort(Protocol):
    """The part of the Retriever that ingestion needs."""

    def index(self, chunks: Sequence[ChunkDoc]) -> None: ...

    def remove_document(self, document_id: int) -> None: ...


class LazyIndex:
    """An index built only when a change is due (after the commit), e.g. the container's."""

    def __init__(self, provider: Callable[[], IndexPort]) -> None:
        self._provider = provider

    def index(self, chunks: Sequence[ChunkDoc]) -> None:
        """Upsert ``chunks`` into the provided index."""
        self._provider().index(chunks)

    def remove_document(self, document_id: int) -> None:
        """Remove a document's chunks from the provided index."""
        self._provider().remove_document(document_id)


@dataclass(frozen=True)
class IngestResult:
    """What happened to one document: created, updated (new version) or unchanged."""

    status: IngestStatus
    document: KnowledgeDocument


@dataclass(frozen=True)
class SyncReport:
    """What ``sync_global_corpus`` changed."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0


def content_hash(text: str) -> str:
    """SHA-256 of the normalised text (whitespace differences do not make a new version)."""
    return hashlib.sha256(re.sub(r"\s+", " ", text).strip().encode()).hexdigest()


def topic_key(explicit: str | None, title: str, ignore: Sequence[str] = ()) -> str | None:
    """A normalised topic: the explicit one, else the title's content words (company name out).

    "Invoices" and "invoice" give the same key, so a company's document on a subject can
    stand in for the global help on that subject.
    """
    source = explicit if explicit and explicit.strip() else title
    skip = _GENERIC | {w.lower() for w in ignore}
    words = set()
    for word in re.findall(r"[a-z0-9]+", source.lower()):
        if word in skip and not explicit:
            continue
        if len(word) > 4 and word.endswith("ies"):
            word = word[:-3] + "y"
        elif len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
            word = word[:-1]
        words.add(word)
    return "-".join(sorted(words))[:120] or None


def source_key(meta: EntryMeta, title: str) -> str:
    """A document's identity in its company: its source name, else its title."""
    return re.sub(r"\s+", " ", (meta.source_name or title)).strip().lower()[:255]


# --- ingestion ----------------------------------------------------------------------------


def ingest_text(
    session: Session,
    ctx: RequestContext,
    entry: EntryIn,
    *,
    index: IndexPort | None = None,
    options: ChunkingOptions | None = None,
) -> IngestResult:
    """Add or replace a document given as text (Markdown understood); needs kb.manage."""
    ctx.require("kb.manage")
    parsed = parse_markdown(entry.content)
    if not parsed.text.strip():
        raise EmptyDocument("The content has no text to index")
    meta = EntryMeta.model_validate(entry.model_dump(exclude={"content"}))
    return _upsert(
        session,
        ctx,
        ctx.company_id,
        parsed,
        meta,
        title=entry.title,
        size=len(entry.content.encode()),
        index=index,
        options=options,
    )


def ingest_file(
    session: Session,
    ctx: RequestContext,
    data: bytes,
    *,
    filename: str | None,
    content_type: str | None = None,
    meta: EntryMeta | None = None,
    index: IndexPort | None = None,
    options: ChunkingOptions | None = None,
    max_bytes: int = 10 * 1024 * 1024,
    max_pages: int = 300,
) -> IngestResult:
    """Add or replace a document from an uploaded file; needs kb.manage.

    The title comes from the caller, else the file's front matter or first heading, else
    its name. Front matter (Markdown) may also give type, tags, module, roles and topic.
    """
    ctx.require("kb.manage")
    return _ingest_bytes(
        session,
        ctx,
        ctx.company_id,
        data,
        filename=filename,
        content_type=content_type,
        meta=meta,
        index=index,
        options=options,
        max_bytes=max_bytes,
        max_pages=max_pages,
    )


def ingest_trusted(
    session: Session,
    company_id: int,
    data: bytes,
    *,
    actor: str,
    filename: str | None,
    meta: EntryMeta | None = None,
    index: IndexPort | None = None,
    options: ChunkingOptions | None = None,
    max_bytes: int = 50 * 1024 * 1024,
    max_pages: int = 2000,
) -> IngestResult:
    """Add or replace a company's document for a local operator (the CLI, the demo build).

    No user is acting, so no permission is checked; the audit log names ``actor``.
    """
    return _ingest_bytes(
        session,
        actor,
        company_id,
        data,
        filename=filename,
        content_type=None,
        meta=meta,
        index=index,
        options=options,
        max_bytes=max_bytes,
        max_pages=max_pages,
    )


def _ingest_bytes(
    session: Session,
    by: RequestContext | str,
    company_id: int,
    data: bytes,
    *,
    filename: str | None,
    content_type: str | None,
    meta: EntryMeta | None,
    index: IndexPort | None,
    options: ChunkingOptions | None,
    max_bytes: int,
    max_pages: int,
) -> IngestResult:
    if len(data) > max_bytes:
        raise PayloadTooLarge(
            f"The file is larger than the limit of {max_bytes} bytes",
            details={"filename": filename, "size": len(data), "max_bytes": max_bytes},
        )
    parsed = parse(data, filename=filename, content_type=content_type, max_pages=max_pages)
    merged = _merge_meta(meta or EntryMeta(), parsed, filename)
    title = merged.title or _title_from_filename(filename)
    return _upsert(
        session,
        by,
        company_id,
        parsed,
        merged,
        title=title,
        size=len(data),
        index=index,
        options=options,
    )


def ingest_parsed(
    session: Session,
    ctx: RequestContext,
    parsed: ParsedDocument,
    *,
    filename: str | None,
    size: int,
    meta: EntryMeta | None = None,
    index: IndexPort | None = None,
    options: ChunkingOptions | None = None,
) -> IngestResult:
    """Add or replace a document parsed beforehand (a background job); needs kb.manage.

    The same rules as ``ingest_file``: same source replaces, same content is unchanged.
    """
    ctx.require("kb.manage")
    merged = _merge_meta(meta or EntryMeta(), parsed, filename)
    title = merged.title or _title_from_filename(filename)
    return _upsert(
        session,
        ctx,
        ctx.company_id,
        parsed,
        merged,
        title=title,
        size=size,
        index=index,
        options=options,
    )


def _merge_meta(meta: EntryMeta, parsed: ParsedDocument, filename: str | None) -> EntryMeta:
    """The caller's fields win over the file's own (front matter, first heading)."""
    given = meta.model_dump(exclude_unset=True)
    from_file: dict[str, Any] = {
        k: v
        for k, v in parsed.meta.items()
        if k in EntryMeta.model_fields and k != "source_name" and v is not None
    }
    if "type" not in from_file and "doc_type" in parsed.meta:
        from_file["type"] = parsed.meta["doc_type"]
    if parsed.title and "title" not in from_file:
        from_file["title"] = parsed.title
    if isinstance(from_file.get("type"), str):
        from_file["type"] = from_file["type"].upper()
    for key in ("tags", "roles"):
        if isinstance(from_file.get(key), str):
            from_file[key] = [v for v in re.split(r"[,\s]+", from_file[key]) if v]
    values = {**from_file, **given}
    values.setdefault("source_name", filename)
    try:
        return EntryMeta.model_validate(values)
    except ValidationError as exc:
        raise ValidationFailed(
            "Invalid document fields (from the request or the file's front matter)",
            details={
                "errors": exc.errors(include_input=False, include_context=False, include_url=False)
            },
        ) from exc


def _title_from_filename(filename: str | None) -> str:
    stem = re.sub(r"\.[A-Za-z0-9]{1,8}$", "", (filename or "").rsplit("/", 1)[-1])
    words = re.sub(r"[_\-]+", " ", stem).strip()
    return (words[:1].upper() + words[1:])[:200] if words else "Untitled document"


def _upsert(
    session: Session,
    by: RequestContext | str,
    company_id: int | None,
    parsed: ParsedDocument,
    meta: EntryMeta,
    *,
    title: str,
    size: int,
    index: IndexPort | None,
    options: ChunkingOptions | None,
) -> IngestResult:
    """Create, replace (same source, new content or fields) or leave a document as it is."""
    digest = content_hash(parsed.text)
    key = source_key(meta, title)
    fields = _fields(session, company_id, meta, title, parsed, size)
    existing = repo.find_by_source(session, company_id, key)
    if existing is None:
        duplicate = repo.find_by_hash(session, company_id, digest)
        if duplicate is not None:  # the same content uploaded again under another name
            return IngestResult("unchanged", duplicate)
        document = KnowledgeDocument(
            company_id=company_id,
            content_hash=digest,
            source_key=key,
            version=1,
            **fields,
        )
        session.add(document)
        session.flush()
        docs = _write_chunks(session, document, parsed, options)
        _record(session, by, "kb.create", document, old=None)
        if index is not None:
            target = index
            after_commit(session, lambda: target.index(docs), failure=_INDEX_FAILED)
        return IngestResult("created", document)
    if existing.content_hash == digest and all(
        getattr(existing, k) == v for k, v in fields.items() if k not in ("size_bytes",)
    ):
        return IngestResult("unchanged", existing)
    old = _snapshot(existing)
    for name, value in fields.items():
        setattr(existing, name, value)
    existing.content_hash = digest
    existing.version += 1
    repo.delete_chunks(session, existing.id)
    session.flush()
    session.expire(existing, ["chunks"])
    docs = _write_chunks(session, existing, parsed, options)
    _record(session, by, "kb.update", existing, old=old)
    if index is not None:
        document_id, target = existing.id, index

        def replace() -> None:
            target.remove_document(document_id)
            target.index(docs)

        after_commit(session, replace, failure=_INDEX_FAILED)
    return IngestResult("updated", existing)


def _fields(
    session: Session,
    company_id: int | None,
    meta: EntryMeta,
    title: str,
    parsed: ParsedDocument,
    size: int,
) -> dict[str, Any]:
    company = session.get(Company, company_id) if company_id is not None else None
    ignore = re.findall(r"[a-z0-9]+", f"{company.name} {company.slug}".lower()) if company else []
    return {
        "title": title,
        "content": parsed.text,
        "doc_type": meta.type,
        "tags": list(meta.tags),
        "module": meta.module,
        "roles": list(meta.roles),
        "topic": topic_key(meta.topic, title, ignore),
        "source_name": meta.source_name,
        "media_type": parsed.media_type,
        "size_bytes": size,
    }


def _write_chunks(
    session: Session,
    document: KnowledgeDocument,
    parsed: ParsedDocument,
    options: ChunkingOptions | None,
) -> list[ChunkDoc]:
    chunks = [
        KnowledgeChunk(
            document_id=document.id,
            company_id=document.company_id,
            ordinal=c.ordinal,
            section=c.section[:500] if c.section else None,
            text=c.text,
        )
        for c in chunk_document(parsed.text, title=document.title, options=options)
    ]
    session.add_all(chunks)
    session.flush()
    return [repo.to_chunk_doc(document, c) for c in chunks]


def _snapshot(document: KnowledgeDocument) -> dict[str, Any]:
    return {
        "title": document.title,
        "type": document.doc_type,
        "tags": list(document.tags),
        "module": document.module,
        "roles": list(document.roles),
        "topic": document.topic,
        "version": document.version,
        "content_hash": document.content_hash,
        "source_name": document.source_name,
    }


def _record(
    session: Session,
    by: RequestContext | str,
    action: str,
    document: KnowledgeDocument,
    *,
    old: dict[str, Any] | None,
) -> None:
    ctx = by if isinstance(by, RequestContext) else None
    audit.record(
        session,
        ctx,
        action,
        "knowledge_document",
        document.id,
        old=old,
        new=_snapshot(document) if action != "kb.delete" else None,
        company_id=document.company_id,
        actor=by if isinstance(by, str) else None,
    )


def set_roles(
    session: Session,
    ctx: RequestContext,
    document_id: int,
    roles: Sequence[str],
    *,
    index: IndexPort | None = None,
) -> KnowledgeDocument:
    """Change who may read a document (same version, same text), audited; re-indexed after commit.

    The roles travel with every chunk into the index (retrieval filters on them), so the
    document's chunks are upserted again once the change is committed.
    """
    ctx.require("kb.manage")
    document = repo.get_own_document(session, ctx, document_id)
    wanted = sorted(set(roles))
    if wanted == sorted(document.roles or ()):
        return document
    before = _snapshot(document)
    document.roles = wanted
    session.flush()
    _record(session, ctx, "kb.roles", document, old=before)
    if index is not None:
        docs = [repo.to_chunk_doc(document, c) for c in repo.chunks_of(session, document.id)]
        target = index
        after_commit(session, lambda: target.index(docs), failure=_INDEX_FAILED)
    return document


def reindex_company(session: Session, ctx: RequestContext, *, index: IndexPort) -> tuple[int, int]:
    """Send every document of the company to the index again (after commit): (documents, chunks)."""
    ctx.require("kb.manage")
    documents = repo.list_documents(session, ctx)
    docs = [repo.to_chunk_doc(d, c) for d in documents for c in repo.chunks_of(session, d.id)]
    audit.record(
        session,
        ctx,
        "kb.reindex_all",
        "knowledge_index",
        ctx.company_slug,
        new={"documents": len(documents), "chunks": len(docs)},
    )
    after_commit(session, lambda: index.index(docs), failure=_INDEX_FAILED)
    return len(documents), len(docs)


# --- removal and the global corpus -------------------------------------------------------


def delete_document(
    session: Session, ctx: RequestContext, document_id: int, *, index: IndexPort | None = None
) -> None:
    """Delete one of the company's documents and its chunks, here and in every index."""
    ctx.require("kb.manage")
    document = repo.get_own_document(session, ctx, document_id)
    _record(session, ctx, "kb.delete", document, old=_snapshot(document))
    _remove(session, document, index)


def _remove(session: Session, document: KnowledgeDocument, index: IndexPort | None) -> None:
    document_id = document.id
    repo.delete_chunks(session, document_id)
    session.expire(document, ["chunks"])
    session.delete(document)
    session.flush()
    if index is not None:
        target = index
        after_commit(session, lambda: target.remove_document(document_id), failure=_INDEX_FAILED)


HELP_PACKAGE = "companion.knowledge"
HELP_FOLDER = "help"


def global_corpus() -> list[tuple[str, str]]:
    """The shipped help pages: (file name, Markdown text), by name."""
    folder = resources.files(HELP_PACKAGE).joinpath(HELP_FOLDER)
    return sorted(
        (entry.name, entry.read_text(encoding="utf-8"))
        for entry in folder.iterdir()
        if entry.name.endswith(".md")
    )


def sync_global_corpus(
    session: Session,
    *,
    index: IndexPort | None = None,
    options: ChunkingOptions | None = None,
) -> SyncReport:
    """Load the product's help pages as global documents; changed pages get a new version."""
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    keep: set[str] = set()
    for name, text in global_corpus():
        parsed = parse_markdown(text)
        meta = _merge_meta(EntryMeta(source_name=f"help/{name}"), parsed, name)
        result = _upsert(
            session,
            GLOBAL_ACTOR,
            None,
            parsed,
            meta,
            title=meta.title or _title_from_filename(name),
            size=len(text.encode()),
            index=index,
            options=options,
        )
        counts[result.status] += 1
        keep.add(result.document.source_key)
    removed = 0
    for document in repo.global_documents(session):
        if document.source_key not in keep:
            _record(session, GLOBAL_ACTOR, "kb.delete", document, old=_snapshot(document))
            _remove(session, document, index)
            removed += 1
    return SyncReport(removed=removed, **counts)
