"""Knowledge base: upload (with the job's progress), documents and versions, re-index, index.

What the services offer is what this page offers: a document's roles are set when it is
uploaded and can be changed on its page (same version, audited, its chunks re-indexed with
the new roles); the version history is read from the audit log, which keeps each version's
metadata (not its old text). The vector index is shared by every company, so switching or
rolling back its version is for system administrators only.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Path, Query, Request, UploadFile
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, RedirectResponse, Response

from companion.audit import repository as audit_repo
from companion.audit import service as audit
from companion.config import Settings
from companion.errors import NotFound, PermissionDenied, ValidationFailed
from companion.jobs import service as jobs
from companion.kit.after_commit import after_commit
from companion.knowledge import repository as kb_repo
from companion.knowledge import service as kb_service
from companion.knowledge.chunking import ChunkingOptions
from companion.knowledge.endpoints import LargeUploads
from companion.knowledge.index.base import previous_version
from companion.knowledge.models import DOC_TYPES
from companion.knowledge.schemas import EntryMeta, RolesIn
from companion.tenancy.permissions import ROLES
from companion.web.admin.base import (
    SECURITY_HEADERS,
    AdminPage,
    AdminRoute,
    CsrfChecked,
    RequireAdmin,
    csrf_checked,
    page_for,
    render,
)
from companion.web.deps import MAX_ID, ContainerDep, SessionDep

router = APIRouter(route_class=AdminRoute, include_in_schema=False)
KbAdmin = Annotated[AdminPage, page_for("kb.manage")]
DocumentId = Annotated[int, Path(ge=1, le=MAX_ID)]
# One fixed path for uploads, so the body-limit middleware can give it the upload limit.
UPLOAD_PATH = "/admin/knowledge-upload"
MULTIPART_ALLOWANCE = 64 * 1024
_INDEX_FAILED = "re-indexing a knowledge document failed; rebuild the index from the database"


def body_limits(settings: Settings) -> dict[str, int]:
    """The upload path's body limit (the knowledge API's, for the same files)."""
    upload = settings.rag.max_upload_bytes + MULTIPART_ALLOWANCE
    return {UPLOAD_PATH: max(upload, settings.api.max_body_bytes)}


def _to(company: str, notice: str = "", job: str = "") -> RedirectResponse:
    url = f"/admin/{company}/knowledge"
    params = [f"notice={quote(notice)}"] if notice else []
    params += [f"job={quote(job)}"] if job else []
    return RedirectResponse(
        url + ("?" + "&".join(params) if params else ""), 303, headers=SECURITY_HEADERS
    )


def _index_state(container: ContainerDep) -> dict[str, Any]:
    index = container.retriever().vector_index
    return {"live": index.current_version(), "versions": index.versions(), "count": index.count()}


@router.get("/admin/{company}/knowledge")
def knowledge(
    request: Request,
    page: KbAdmin,
    session: SessionDep,
    container: ContainerDep,
    q: Annotated[str, Query(max_length=200)] = "",
    notice: Annotated[str, Query(max_length=300)] = "",
    job: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    """The company's documents, the upload form, and the index's versions."""
    documents = kb_repo.list_documents(session, page.ctx, q=q or None)
    counts = kb_repo.chunk_counts(session, [d.id for d in documents])
    return render(
        request,
        "knowledge.html",
        page,
        title="Knowledge base",
        section="knowledge",
        documents=documents,
        counts=counts,
        q=q,
        notice=notice or None,
        job=job if job.replace("-", "").isalnum() else "",
        doc_types=DOC_TYPES,
        index=_index_state(container),
        system_admin=page.user.is_system_admin,
        roles=sorted(page.ctx.roles),
    )


@router.get("/admin/{company}/knowledge/jobs/{job_id}")
def job_progress(
    page: KbAdmin, session: SessionDep, job_id: Annotated[str, Path(max_length=64)]
) -> JSONResponse:
    """An upload job's progress for the page's script (another company's is a 404)."""
    job = jobs.get_job(session, page.ctx, job_id)
    if job is None:
        raise NotFound("No such job", details={"job_id": job_id[:64]})
    return JSONResponse(
        {
            "status": job.status,
            "progress": round(job.progress, 4),
            "message": job.message,
            "error": job.error,
            "done_units": job.done_units,
            "total_units": job.total_units,
        },
        headers={"Cache-Control": "no-store"},
    )


@router.get("/admin/{company}/knowledge/{document_id}")
def document(
    request: Request,
    page: KbAdmin,
    session: SessionDep,
    document_id: DocumentId,
    notice: Annotated[str, Query(max_length=300)] = "",
) -> Response:
    """One document: metadata, roles, version history (audit log) and chunks."""
    doc = kb_repo.get_own_document(session, page.ctx, document_id)
    history = None
    if page.ctx.can("audit.read"):
        where = audit_repo.AuditFilter(entity_type="knowledge_document", entity_id=str(doc.id))
        history, _ = audit_repo.list_entries(session, page.ctx, where, limit=100, offset=0)
    return render(
        request,
        "document.html",
        page,
        title=doc.title,
        section="knowledge",
        doc=doc,
        chunks=kb_repo.chunks_of(session, doc.id),
        history=history,
        notice=notice or None,
        all_roles=sorted(ROLES),
    )


def _meta(title: str, doc_type: str, roles: str, tags: str) -> EntryMeta:
    values: dict[str, Any] = {"type": (doc_type or "POLICY").upper()}
    if title.strip():
        values["title"] = title.strip()
    for key, raw in (("roles", roles), ("tags", tags)):
        values[key] = [v.strip() for v in raw.split(",") if v.strip()]
    try:
        return EntryMeta.model_validate(values)
    except ValidationError as exc:
        problems = exc.errors(include_input=False, include_context=False, include_url=False)
        raise ValidationFailed(
            "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in problems[:5]),
            details={"errors": problems},
        ) from exc


@router.post(UPLOAD_PATH)
async def upload(
    request: Request,
    session: SessionDep,
    container: ContainerDep,
    company: Annotated[str, Form(min_length=1, max_length=64)],
    file: Annotated[UploadFile, File()],
    csrf: Annotated[str, Form(max_length=200)] = "",
    title: Annotated[str, Form(max_length=200)] = "",
    doc_type: Annotated[str, Form(max_length=16)] = "POLICY",
    roles: Annotated[str, Form(max_length=500)] = "",
    tags: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """Add or replace a document; a large one becomes a job whose progress the page shows."""
    # The checks read the database: off the event loop, like the ingestion below.
    await run_in_threadpool(csrf_checked, request, csrf, None)
    page = await run_in_threadpool(
        RequireAdmin("kb.manage"), request, _slug(company), session, container
    )
    meta = _meta(title, doc_type, roles, tags)
    limit = container.settings.rag.max_upload_bytes
    data = await file.read(limit + 1)
    if len(data) > limit:
        raise ValidationFailed(
            f"The file is larger than the limit of {limit} bytes", details={"max_bytes": limit}
        )
    uploads: LargeUploads | None = getattr(request.app.state, "large_uploads", None)
    slug = page.ctx.company_slug
    if uploads is not None and uploads.wanted(
        data, filename=file.filename, content_type=file.content_type
    ):
        queued = await run_in_threadpool(
            uploads.queue,
            session,
            page.ctx,
            data,
            filename=file.filename,
            content_type=file.content_type,
            meta=meta,
        )
        return _to(slug, f"{file.filename}: queued for ingestion", job=queued.job_id)
    result = await run_in_threadpool(
        kb_service.ingest_file,
        session,
        page.ctx,
        data,
        filename=file.filename,
        content_type=file.content_type,
        meta=meta,
        index=kb_service.LazyIndex(container.retriever),
        options=ChunkingOptions.from_settings(container.settings.rag),
        max_bytes=limit,
    )
    doc = result.document
    return _to(slug, f"{doc.title}: {result.status} (version {doc.version})")


def _slug(company: str) -> str:
    slug = company.strip()
    if not slug.replace("-", "").replace("_", "").isalnum() or not slug.islower():
        raise ValidationFailed("company: not a company slug", details={"field": "company"})
    return slug


@router.post("/admin/{company}/knowledge/{document_id}/reindex", dependencies=[CsrfChecked])
def reindex(
    page: KbAdmin, session: SessionDep, container: ContainerDep, document_id: DocumentId
) -> Response:
    """Put the document's chunks into the live index again (after the commit), audited."""
    doc = kb_repo.get_own_document(session, page.ctx, document_id)
    chunks = [kb_repo.to_chunk_doc(doc, c) for c in kb_repo.chunks_of(session, doc.id)]
    audit.record(
        session,
        page.ctx,
        "kb.reindex",
        "knowledge_document",
        doc.id,
        new={"chunks": len(chunks), "version": doc.version},
    )
    index = kb_service.LazyIndex(container.retriever)
    after_commit(session, lambda: index.index(chunks), failure=_INDEX_FAILED)
    return _to(page.ctx.company_slug, f"{doc.title}: {len(chunks)} chunks sent to the index")


@router.post("/admin/{company}/knowledge/{document_id}/roles", dependencies=[CsrfChecked])
def set_roles(
    page: KbAdmin,
    session: SessionDep,
    container: ContainerDep,
    document_id: DocumentId,
    roles: Annotated[list[str] | None, Form(max_length=20)] = None,
) -> Response:
    """Change who may read the document (same version), audited; re-indexed after commit."""
    try:
        wanted = RolesIn.model_validate({"roles": roles or []}).roles
    except ValidationError as exc:
        raise ValidationFailed(
            "roles: " + exc.errors()[0]["msg"], details={"field": "roles"}
        ) from exc
    doc = kb_service.set_roles(
        session, page.ctx, document_id, wanted, index=kb_service.LazyIndex(container.retriever)
    )
    who = ", ".join(doc.roles) if doc.roles else "everyone with kb.read"
    return RedirectResponse(
        f"/admin/{page.ctx.company_slug}/knowledge/{doc.id}?notice={quote('Readable by: ' + who)}",
        303,
        headers=SECURITY_HEADERS,
    )


@router.post("/admin/{company}/knowledge/reindex", dependencies=[CsrfChecked])
def reindex_all(page: KbAdmin, session: SessionDep, container: ContainerDep) -> Response:
    """Send every document of the company to the live index again (after the commit)."""
    documents, chunks = kb_service.reindex_company(
        session, page.ctx, index=kb_service.LazyIndex(container.retriever)
    )
    return _to(page.ctx.company_slug, f"{documents} documents ({chunks} chunks) sent to the index")


def _system_admin(page: AdminPage) -> None:
    if not page.user.is_system_admin:
        raise PermissionDenied(
            "The knowledge index is shared by every company: only a system administrator "
            "switches or rolls back its version",
            details={"reason": "system_admin_only"},
        )


def _change_live(
    page: AdminPage, session: SessionDep, version: str, before: str | None, action: str
) -> None:
    """Audit the change first, so a database error stops it before the index moves."""
    audit.record(
        session,
        page.ctx,
        action,
        "knowledge_index",
        version,
        old={"live": before},
        new={"live": version},
    )
    session.flush()


@router.post("/admin/{company}/knowledge/index/switch", dependencies=[CsrfChecked])
def switch_index(
    page: KbAdmin,
    session: SessionDep,
    container: ContainerDep,
    version: Annotated[str, Form(min_length=1, max_length=64)],
) -> Response:
    """Make a kept index version live (system administrators), audited."""
    _system_admin(page)
    index = container.retriever().vector_index
    if version not in index.versions():
        raise NotFound(f"No index version '{version[:64]}'", details={"version": version[:64]})
    _change_live(page, session, version, index.current_version(), "kb.index.switch")
    index.switch(version)
    return _to(page.ctx.company_slug, f"Index version {version} is live")


@router.post("/admin/{company}/knowledge/index/rollback", dependencies=[CsrfChecked])
def rollback_index(page: KbAdmin, session: SessionDep, container: ContainerDep) -> Response:
    """Go back to the newest version older than the live one (system administrators)."""
    _system_admin(page)
    index = container.retriever().vector_index
    live = index.current_version()
    target = previous_version(index.versions(), live)
    _change_live(page, session, target, live, "kb.index.rollback")
    index.rollback()
    return _to(page.ctx.company_slug, f"Rolled back: index version {target} is live")
