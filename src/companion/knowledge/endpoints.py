"""HTTP endpoints of the knowledge base: upload (file or JSON), list, read, delete."""

from __future__ import annotations

import json
from typing import Annotated, Any, Protocol

from fastapi import APIRouter, Depends, Query, Request, Response, status
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from companion.bootstrap import Container
from companion.config import Settings
from companion.errors import BadRequest, UnsupportedMediaType, ValidationFailed
from companion.kit.fields import Text
from companion.knowledge import repository as repo
from companion.knowledge import service
from companion.knowledge.chunking import ChunkingOptions
from companion.knowledge.models import KnowledgeDocument
from companion.knowledge.schemas import (
    ChunkOut,
    DocType,
    DocumentDetail,
    DocumentOut,
    EntryIn,
    EntryMeta,
    IngestOut,
    JobAccepted,
    RolesIn,
)
from companion.tenancy.context import RequestContext
from companion.web.deps import ContainerDep, Page, PageDep, RecordId, SessionDep, require

router = APIRouter(prefix="/ai/knowledge", tags=["knowledge"])

KbReader = Annotated[RequestContext, Depends(require("kb.read"))]
KbManager = Annotated[RequestContext, Depends(require("kb.manage"))]
UPLOAD_PATH = "/api/v1/ai/knowledge"
# Room for the multipart envelope and form fields around a file of the largest allowed size.
MULTIPART_ALLOWANCE = 64 * 1024
_FORM_FIELDS = ("title", "type", "tags", "module", "roles", "topic", "source_name")


class LargeUploads(Protocol):
    """Where an upload too big to ingest inside the request goes (jobs/ provides it).

    The app factory puts it on ``app.state.large_uploads``: knowledge sits below jobs, so it
    names what it needs here and the higher layer supplies it.
    """

    def wanted(self, data: bytes, *, filename: str | None, content_type: str | None) -> bool:
        """Whether this upload is ingested in the background (pages or bytes)."""
        ...

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
        """Keep the bytes and queue the job; it starts after the request commits."""
        ...


_UPLOAD_DOC: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": EntryIn.model_json_schema()},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        **{name: {"type": "string"} for name in _FORM_FIELDS},
                    },
                }
            },
        },
    }
}


def body_limits(settings: Settings) -> dict[str, int]:
    """Per-path body limits for the body-limit middleware: uploads may exceed api.max_body_bytes."""
    upload = settings.rag.max_upload_bytes + MULTIPART_ALLOWANCE
    return {UPLOAD_PATH: max(upload, settings.api.max_body_bytes)}


def chunking_options(container: Container) -> ChunkingOptions:
    """The configured chunking strategy and sizes."""
    return ChunkingOptions.from_settings(container.settings.rag)


def document_out(document: KnowledgeDocument, chunk_count: int) -> DocumentOut:
    """The API view of a document."""
    return DocumentOut(
        id=document.id,
        title=document.title,
        type=document.doc_type,
        tags=list(document.tags or []),
        module=document.module,
        roles=list(document.roles or []),
        topic=document.topic,
        version=document.version,
        content_hash=document.content_hash,
        source_name=document.source_name,
        media_type=document.media_type,
        size_bytes=document.size_bytes,
        is_global=document.company_id is None,
        chunk_count=chunk_count,
        created_at=document.created_at,
        updated_at=document.updated_at,
    )


@router.post(
    "",
    response_model=IngestOut,
    status_code=status.HTTP_201_CREATED,
    openapi_extra=_UPLOAD_DOC,
    responses={
        200: {"model": IngestOut, "description": "Updated or unchanged"},
        202: {"model": JobAccepted, "description": "A large file, ingested by a background job"},
    },
)
async def add_document(
    request: Request,
    response: Response,
    session: SessionDep,
    ctx: KbManager,
    container: ContainerDep,
) -> IngestOut | JSONResponse:
    """Add a document: a file upload (multipart, field ``file``) or JSON text.

    Re-sending a document with the same source name (or title) replaces its chunks and
    raises its version; the same content again changes nothing (200). A PDF of more than
    rag.max_sync_pages pages, or a file over rag.max_sync_bytes, is ingested by a
    background job: 202 with the job's id and status URL.
    """
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "application/json":
        entry = _validated(EntryIn, await _json_body(request))
        result = await run_in_threadpool(_ingest_text, session, ctx, container, entry)
    elif kind == "multipart/form-data":
        async with request.form(max_files=1, max_fields=20) as form:
            upload = form.get("file")
            if not isinstance(upload, UploadFile):
                raise ValidationFailed(
                    "Attach the document as the form field 'file'", details={"field": "file"}
                )
            data = await upload.read(container.settings.rag.max_upload_bytes + 1)
            values = {k: v for k in _FORM_FIELDS if isinstance(v := form.get(k), str) and v}
            meta = _validated(EntryMeta, _form_meta(values))
            uploads = _large_uploads(request, container, data, upload)
            if uploads is not None:
                queued = await run_in_threadpool(
                    uploads.queue,
                    session,
                    ctx,
                    data,
                    filename=upload.filename,
                    content_type=upload.content_type,
                    meta=meta,
                )
                return JSONResponse(queued.model_dump(), status_code=status.HTTP_202_ACCEPTED)
            result = await run_in_threadpool(
                _ingest_file, session, ctx, container, data, upload, meta
            )
    else:
        raise UnsupportedMediaType(
            "Send the document as multipart/form-data (field 'file') or application/json",
            details={"content_type": kind or None},
        )
    if result.status != "created":
        response.status_code = status.HTTP_200_OK
    return result


def _out(session: Session, result: service.IngestResult) -> IngestOut:
    count = len(repo.chunks_of(session, result.document.id))
    return IngestOut(status=result.status, document=document_out(result.document, count))


def _ingest_text(
    session: Session, ctx: RequestContext, container: Container, entry: EntryIn
) -> IngestOut:
    result = service.ingest_text(
        session,
        ctx,
        entry,
        index=service.LazyIndex(container.retriever),
        options=chunking_options(container),
    )
    return _out(session, result)


def _ingest_file(
    session: Session,
    ctx: RequestContext,
    container: Container,
    data: bytes,
    upload: UploadFile,
    meta: EntryMeta,
) -> IngestOut:
    result = service.ingest_file(
        session,
        ctx,
        data,
        filename=upload.filename,
        content_type=upload.content_type,
        meta=meta,
        index=service.LazyIndex(container.retriever),
        options=chunking_options(container),
        max_bytes=container.settings.rag.max_upload_bytes,
    )
    return _out(session, result)


def _large_uploads(
    request: Request, container: Container, data: bytes, upload: UploadFile
) -> LargeUploads | None:
    """The background path when this upload should take it, else None (ingest now)."""
    if len(data) > container.settings.rag.max_upload_bytes:
        return None  # the request answers 413
    uploads: LargeUploads | None = getattr(request.app.state, "large_uploads", None)
    if uploads is None or not uploads.wanted(
        data, filename=upload.filename, content_type=upload.content_type
    ):
        return None
    return uploads


async def _json_body(request: Request) -> Any:
    try:
        return json.loads(await request.body())
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest(
            "The body is not valid JSON", details={"reason": "malformed_json"}
        ) from exc


def _form_meta(values: dict[str, str]) -> dict[str, Any]:
    """Form fields as EntryMeta input: tags and roles are comma-separated lists."""
    meta: dict[str, Any] = dict(values)
    for key in ("tags", "roles"):
        if key in meta:
            meta[key] = [v.strip() for v in meta[key].split(",") if v.strip()]
    if "type" in meta:
        meta["type"] = meta["type"].upper()
    return meta


def _validated(model: type[EntryMeta], data: Any) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors(include_input=False, include_context=False, include_url=False)
        # Located like FastAPI's own 422s (["body", field]), so clients read both one way.
        located = [{**e, "loc": ["body", *e["loc"]]} for e in errors]
        raise ValidationFailed("Invalid knowledge entry", details={"errors": located}) from exc


@router.get("", response_model=Page[DocumentOut])
def list_documents(
    session: SessionDep,
    ctx: KbReader,
    page: PageDep,
    type: Annotated[DocType | None, Query(description="Only documents of this type")] = None,
    q: Annotated[Text | None, Query(max_length=200, description="Title contains")] = None,
    include_global: Annotated[
        bool, Query(description="Also list the product's own help pages")
    ] = False,
) -> Page[DocumentOut]:
    """The company's knowledge documents the caller may read, newest first."""
    rows = repo.list_documents(session, ctx, include_global=include_global, doc_type=type, q=q)
    shown = rows[page.offset : page.offset + page.limit]
    counts = repo.chunk_counts(session, [d.id for d in shown])
    return Page[DocumentOut](
        items=[document_out(d, counts.get(d.id, 0)) for d in shown],
        total=len(rows),
        limit=page.limit,
        offset=page.offset,
    )


@router.get("/{document_id}", response_model=DocumentDetail)
def get_document(session: SessionDep, ctx: KbReader, document_id: RecordId) -> DocumentDetail:
    """One document with its text and chunks (the ids answers cite)."""
    document = repo.get_document(session, ctx, document_id)
    chunks = repo.chunks_of(session, document.id)
    return DocumentDetail(
        **document_out(document, len(chunks)).model_dump(),
        content=document.content,
        chunks=[
            ChunkOut(
                id=repo.chunk_id(document.id, c.ordinal),
                ordinal=c.ordinal,
                section=c.section,
                text=c.text,
            )
            for c in chunks
        ],
    )


@router.put("/{document_id}/roles", response_model=DocumentOut)
def set_roles(
    session: SessionDep,
    ctx: KbManager,
    container: ContainerDep,
    document_id: RecordId,
    body: RolesIn,
) -> DocumentOut:
    """Change who may read a document (same version); its chunks are re-indexed with the roles."""
    document = service.set_roles(
        session, ctx, document_id, body.roles, index=service.LazyIndex(container.retriever)
    )
    return document_out(document, len(repo.chunks_of(session, document.id)))


@router.delete("/{document_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_document(
    session: SessionDep, ctx: KbManager, container: ContainerDep, document_id: RecordId
) -> Response:
    """Delete a document of the company: its chunks leave the database and every index."""
    service.delete_document(session, ctx, document_id, index=service.LazyIndex(container.retriever))
    return Response(status_code=status.HTTP_204_NO_CONTENT)
