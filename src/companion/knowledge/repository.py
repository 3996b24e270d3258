"""Every query on knowledge documents and chunks.

A company sees its own documents plus the global corpus (``company_id IS NULL``); within
those, a document restricted to roles is visible only to holders of one of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from sqlalchemy import ColumnElement, delete, func, or_, select
from sqlalchemy.orm import Session, selectinload

from companion.errors import NotFound
from companion.knowledge.models import KnowledgeChunk, KnowledgeDocument
from companion.knowledge.retrieval import ChunkDoc
from companion.tenancy.context import RequestContext, scoped

_BATCH = 500


def chunk_id(document_id: int, ordinal: int) -> str:
    """The public id of a chunk, as cited in answers: ``kb_<document>#<ordinal>``."""
    return f"kb_{document_id}#{ordinal}"


def parse_chunk_id(value: str) -> tuple[int, int] | None:
    """``kb_12#3`` -> (12, 3); anything else -> None."""
    if not value.startswith("kb_") or "#" not in value:
        return None
    doc, _, ordinal = value[3:].partition("#")
    if not (doc.isdigit() and ordinal.isdigit()):
        return None
    return int(doc), int(ordinal)


def roles_allow(document_roles: Sequence[str], caller_roles: Sequence[str]) -> bool:
    """A public document, or one restricted to a role the caller holds."""
    return not document_roles or bool(set(document_roles) & set(caller_roles))


def can_see(ctx: RequestContext, document: KnowledgeDocument) -> bool:
    """Whether the caller may read ``document`` (managers see every one of their company)."""
    if document.company_id not in (None, ctx.company_id):
        return False
    return ctx.can("kb.manage") or roles_allow(document.roles, ctx.roles)


def get_document(session: Session, ctx: RequestContext, document_id: int) -> KnowledgeDocument:
    """A document the caller may read (own company or global); others are NotFound."""
    stmt = select(KnowledgeDocument).where(
        KnowledgeDocument.id == document_id,
        # The global corpus is shared by design; every other row is the caller's company's.
        or_(KnowledgeDocument.company_id == ctx.company_id, KnowledgeDocument.company_id.is_(None)),
    )
    document = session.execute(stmt).scalar_one_or_none()
    if document is None or not can_see(ctx, document):
        raise NotFound(f"Document {document_id} not found", details={"document_id": document_id})
    return document


def get_own_document(session: Session, ctx: RequestContext, document_id: int) -> KnowledgeDocument:
    """A document of the caller's own company (the global corpus is not theirs to change)."""
    document = session.execute(
        scoped(select(KnowledgeDocument), KnowledgeDocument, ctx).where(
            KnowledgeDocument.id == document_id
        )
    ).scalar_one_or_none()
    if document is None:
        raise NotFound(f"Document {document_id} not found", details={"document_id": document_id})
    return document


def list_documents(
    session: Session,
    ctx: RequestContext,
    *,
    include_global: bool = False,
    doc_type: str | None = None,
    q: str | None = None,
) -> list[KnowledgeDocument]:
    """The documents the caller may read, newest first (role filtering done here)."""
    if include_global:
        stmt = select(KnowledgeDocument).where(
            or_(
                KnowledgeDocument.company_id == ctx.company_id,
                KnowledgeDocument.company_id.is_(None),
            )
        )
    else:
        stmt = scoped(select(KnowledgeDocument), KnowledgeDocument, ctx)
    if doc_type:
        stmt = stmt.where(KnowledgeDocument.doc_type == doc_type)
    if q and q.strip():
        stmt = stmt.where(
            func.lower(KnowledgeDocument.title).contains(q.strip().lower(), autoescape=True)
        )
    stmt = stmt.order_by(KnowledgeDocument.updated_at.desc(), KnowledgeDocument.id.desc())
    return [d for d in session.execute(stmt).scalars() if can_see(ctx, d)]


def chunk_counts(session: Session, document_ids: Iterable[int]) -> dict[int, int]:
    """How many chunks each document has."""
    ids = list(document_ids)
    if not ids:
        return {}
    rows = session.execute(
        select(KnowledgeChunk.document_id, func.count())
        .where(KnowledgeChunk.document_id.in_(ids))
        .group_by(KnowledgeChunk.document_id)
    ).all()
    return {doc: int(count) for doc, count in rows}


def find_by_source(
    session: Session, company_id: int | None, source_key: str
) -> KnowledgeDocument | None:
    """The document of ``company_id`` (None: global) known by ``source_key``."""
    stmt = select(KnowledgeDocument).where(
        _company_is(company_id), KnowledgeDocument.source_key == source_key
    )
    return session.execute(stmt.order_by(KnowledgeDocument.id)).scalars().first()


def find_by_hash(
    session: Session, company_id: int | None, content_hash: str
) -> KnowledgeDocument | None:
    """A document of ``company_id`` with exactly this content."""
    stmt = select(KnowledgeDocument).where(
        _company_is(company_id), KnowledgeDocument.content_hash == content_hash
    )
    return session.execute(stmt.order_by(KnowledgeDocument.id)).scalars().first()


def global_documents(session: Session) -> list[KnowledgeDocument]:
    """Every document of the global corpus."""
    stmt = select(KnowledgeDocument).where(KnowledgeDocument.company_id.is_(None))
    return list(session.execute(stmt.order_by(KnowledgeDocument.id)).scalars())


def _company_is(company_id: int | None) -> ColumnElement[bool]:
    if company_id is None:
        return KnowledgeDocument.company_id.is_(None)
    return KnowledgeDocument.company_id == company_id


def chunks_of(session: Session, document_id: int) -> list[KnowledgeChunk]:
    """A document's chunks in order."""
    stmt = select(KnowledgeChunk).where(KnowledgeChunk.document_id == document_id)
    return list(session.execute(stmt.order_by(KnowledgeChunk.ordinal)).scalars())


def delete_chunks(session: Session, document_id: int) -> None:
    """Remove every chunk of a document (before writing its new ones)."""
    session.execute(delete(KnowledgeChunk).where(KnowledgeChunk.document_id == document_id))


def to_chunk_doc(document: KnowledgeDocument, chunk: KnowledgeChunk) -> ChunkDoc:
    """The index's view of one stored chunk."""
    return ChunkDoc(
        chunk_id=chunk_id(document.id, chunk.ordinal),
        document_id=document.id,
        company_id=document.company_id,
        roles=tuple(document.roles or ()),
        title=document.title,
        section=chunk.section,
        text=chunk.text,
        source_url=source_url(document),
        doc_type=document.doc_type,
        module=document.module,
        topic=document.topic,
    )


def source_url(document: KnowledgeDocument) -> str:
    """Where a cited document can be opened: its API path."""
    return f"/api/v1/ai/knowledge/{document.id}"


def iter_chunk_docs(session: Session) -> Iterator[ChunkDoc]:
    """Every chunk of every company and of the global corpus (to rebuild an index)."""
    last_id = 0
    while True:
        documents = list(
            session.execute(
                select(KnowledgeDocument)
                .where(KnowledgeDocument.id > last_id)
                .options(selectinload(KnowledgeDocument.chunks))
                .order_by(KnowledgeDocument.id)
                .limit(_BATCH)
            ).scalars()
        )
        if not documents:
            return
        for document in documents:
            for chunk in document.chunks:
                yield to_chunk_doc(document, chunk)
        last_id = documents[-1].id
