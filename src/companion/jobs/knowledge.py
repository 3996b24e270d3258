"""The knowledge ingestion job: a large upload parsed page by page, outside the request.

The request stores the raw bytes under ``data_dir/uploads/<job id>`` (never in the
database) and queues the job; the job reads them, reports each page, then stores the
document through the normal service path (same replace and duplicate rules) and deletes
the file.

The job is ``done`` only once the document is searchable: it commits the document, then
embeds its chunks itself (reporting them) and updates the index, and only then returns.
Left to the service's after-commit hook, the embedding (minutes for a few MB) would run
after the job's own commit had already said ``done`` (issue 21, F5).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from companion.auth import repository as auth_repo
from companion.auth.service import context_for_user
from companion.bootstrap import Container
from companion.errors import CompanionError
from companion.jobs import service as jobs
from companion.jobs.endpoints import accepted
from companion.jobs.models import new_job_id
from companion.jobs.runner import runner_for
from companion.jobs.service import JobFailed, JobRun
from companion.kit.db import begin_for_writing
from companion.kit.memory import release_memory
from companion.knowledge import service as kb
from companion.knowledge.chunking import ChunkingOptions
from companion.knowledge.parsers import (
    MEDIA_TYPES,
    PDF,
    EmptyDocument,
    ParsedDocument,
    UnreadableDocument,
    detect_kind,
    parse,
    pdf_text,
)
from companion.knowledge.retrieval import ChunkDoc, Retriever
from companion.knowledge.schemas import EntryMeta, JobAccepted
from companion.tenancy.context import RequestContext
from companion.tenancy.models import Company

KIND = "kb.ingest"
UPLOADS = "uploads"
# Embedding the chunks is most of the work (20-30 chunks a second on 2 cores); reading
# pages the rest.
PARSE_SHARE = 0.2
# Chunks embedded between two progress reports: small enough to show movement, large
# enough to fill the embedder's batches.
INDEX_STEP = 64


def upload_path(data_dir: Path, job_id: str) -> Path:
    """Where a queued upload's bytes wait for their job."""
    return data_dir / UPLOADS / job_id


def store_upload(data_dir: Path, job_id: str, data: bytes) -> Path:
    """Write an upload's bytes for its job (before the request commits)."""
    path = upload_path(data_dir, job_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


@dataclass(frozen=True)
class BackgroundUploads:
    """knowledge's ``LargeUploads`` port: big uploads become ``kb.ingest`` jobs."""

    container: Container

    def wanted(self, data: bytes, *, filename: str | None, content_type: str | None) -> bool:
        """Whether this upload is ingested in the background (pages or bytes)."""
        rag = self.container.settings.rag
        return needs_background(
            data,
            filename=filename,
            content_type=content_type,
            max_sync_pages=rag.max_sync_pages,
            max_sync_bytes=rag.max_sync_bytes,
        )

    def queue(
        self,
        session: Session,
        ctx: RequestContext,
        data: bytes,
        *,
        filename: str | None,
        content_type: str | None,
        meta: EntryMeta,
    ) -> JobAccepted:
        """Keep the bytes beside the database and queue the job; it starts after the commit."""
        job_id = new_job_id()
        store_upload(self.container.settings.data_dir, job_id, data)
        payload = {
            "filename": filename,
            "content_type": content_type,
            "size": len(data),
            "meta": meta.model_dump(mode="json", exclude_unset=True),
        }
        job = jobs.enqueue(
            session, ctx, KIND, payload, runner=runner_for(self.container), job_id=job_id
        )
        return accepted(job)


def ingest_upload(container: Container, run: JobRun) -> dict[str, Any]:
    """Parse the stored upload page by page and add the document as its uploader."""
    path = upload_path(container.settings.data_dir, run.job_id)
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise JobFailed("The uploaded file is no longer there; upload it again") from exc
    # Built (or rebuilt from the chunk table) before the document is added, so a first
    # build does not embed the new document twice.
    retriever = container.retriever()
    try:
        with run.reading() as session:
            ctx = _uploader(session, run)
        filename = run.payload.get("filename")
        meta = EntryMeta.model_validate(run.payload.get("meta") or {})

        def on_page(done: int, total: int) -> None:
            run.progress(done, total, f"Read page {done} of {total}", share=PARSE_SHARE)

        parsed = parse_in_pages(
            data, filename=filename, content_type=run.payload.get("content_type"), on_page=on_page
        )
        pending = PendingIndex()
        # Its own short write transaction, not run.writing(): the embedding below must not
        # hold SQLite's write lock, and the job's "done" must wait for it.
        with run.session_factory() as session:
            begin_for_writing(session)
            result = kb.ingest_parsed(
                session,
                ctx,
                parsed,
                filename=filename,
                size=len(data),
                meta=meta,
                index=pending,
                options=ChunkingOptions.from_settings(container.settings.rag),
            )
            session.commit()  # releases the document's index changes into `pending`

        def on_chunks(done: int, total: int) -> None:
            message = f"Indexed {done} of {total} chunks"
            run.progress(done, total, message, start=PARSE_SHARE, share=1 - PARSE_SHARE)

        pending.apply(retriever, on_chunks)
    finally:
        path.unlink(missing_ok=True)
        release_memory()  # the document's text, chunks and vectors are garbage now
    return {
        "document_id": result.document.id,
        "status": result.status,
        "version": result.document.version,
        "title": result.document.title,
        "pages": parsed.pages,
    }


@dataclass
class PendingIndex:
    """An ``IndexPort`` that keeps the changes a commit releases, for ``apply`` to make.

    Each change is a document id to remove or a list of chunks to add, in order.
    """

    changes: list[int | list[ChunkDoc]] = field(default_factory=list)

    def index(self, chunks: Sequence[ChunkDoc]) -> None:
        """Keep ``chunks`` to be embedded and added."""
        self.changes.append(list(chunks))

    def remove_document(self, document_id: int) -> None:
        """Keep a document's removal."""
        self.changes.append(document_id)

    def apply(self, retriever: Retriever, on_chunks: Callable[[int, int], None]) -> None:
        """Embed every kept chunk (``on_chunks(done, total)`` as it goes), then change the index.

        All the embedding comes first, so a replaced document stays searchable (old version)
        until its new chunks are ready, and nothing is removed if the embedding fails.
        """
        total = sum(len(c) for c in self.changes if isinstance(c, list))
        done = 0
        ready: list[int | list[tuple[list[ChunkDoc], Any, Any]]] = []
        for change in self.changes:
            if isinstance(change, int):
                ready.append(change)
                continue
            batches = []
            for at in range(0, len(change), INDEX_STEP):
                batch = change[at : at + INDEX_STEP]
                vectors, sentences = retriever.embed_for_index(batch)
                batches.append((batch, vectors, sentences))
                done += len(batch)
                on_chunks(done, total)
            ready.append(batches)
        for item in ready:
            if isinstance(item, int):
                retriever.remove_document(item)
            else:
                for batch, vectors, sentences in item:
                    retriever.index_upsert(batch, vectors, sentences=sentences)
        self.changes.clear()


def _uploader(session: Session, run: JobRun) -> RequestContext:
    """The uploader's context today: a member who lost kb.manage cannot add the document."""
    user = auth_repo.get_user(session, run.user_id) if run.user_id is not None else None
    company = session.get(Company, run.company_id)
    if user is None or company is None:
        raise JobFailed("The user who uploaded the file no longer exists")
    return context_for_user(session, user.username, company.slug)


def needs_background(
    data: bytes,
    *,
    filename: str | None,
    content_type: str | None,
    max_sync_pages: int,
    max_sync_bytes: int,
) -> bool:
    """Whether an upload is too big to ingest inside the request (pages or bytes).

    A file whose pages cannot be counted is left to the request, which answers its error.
    """
    try:
        kind = detect_kind(filename, content_type, data)
    except CompanionError:
        return False  # an unsupported type: the request answers 415 at once
    if len(data) > max_sync_bytes:
        return True
    if kind != PDF:
        return False
    pages = pdf_page_count(data)
    return pages is not None and pages > max_sync_pages


def pdf_page_count(data: bytes) -> int | None:
    """The number of pages of a PDF, or None if it cannot be read."""
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    if not data.startswith(b"%PDF-"):
        return None
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            return None
        return len(reader.pages)
    except (PyPdfError, ValueError, KeyError, TypeError, IndexError, AttributeError, OSError):
        return None


def parse_in_pages(
    data: bytes,
    *,
    filename: str | None,
    content_type: str | None,
    on_page: Callable[[int, int], None],
) -> ParsedDocument:
    """Parse an upload, a PDF page by page calling ``on_page(done, total)`` (jobs).

    Other formats are parsed at once and count as one page.
    """
    if not data.strip() or detect_kind(filename, content_type, data) != PDF:
        parsed = parse(data, filename=filename, content_type=content_type, max_pages=10**9)
        on_page(1, 1)
        return parsed
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    if not data.startswith(b"%PDF-"):
        raise UnreadableDocument("The file is not a PDF", details={"filename": filename})
    damaged = (PyPdfError, ValueError, KeyError, TypeError, IndexError, AttributeError, OSError)
    texts: list[str] = []
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise UnreadableDocument(
                "The PDF is password protected", details={"filename": filename}
            )
        total = len(reader.pages)
        for number, page in enumerate(reader.pages, start=1):
            texts.append(page.extract_text() or "")
            on_page(number, total)
        info_title = reader.metadata.title if reader.metadata else None
    except damaged as exc:
        raise UnreadableDocument(
            f"The PDF is damaged and cannot be read (after {len(texts)} pages)",
            details={"filename": filename, "reason": type(exc).__name__, "pages_read": len(texts)},
        ) from exc
    text = pdf_text(texts)
    if not text.strip():
        raise EmptyDocument(
            "The file has no text to index (a scanned PDF needs OCR first)",
            details={"filename": filename, "kind": PDF},
        )
    return ParsedDocument(
        text=text,
        title=str(info_title) if info_title else None,
        kind=PDF,
        media_type=MEDIA_TYPES[PDF],
        pages=total,
    )
