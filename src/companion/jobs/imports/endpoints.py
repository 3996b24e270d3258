"""HTTP endpoints of data imports: upload, review, error report, commit, discard."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import BaseModel
from starlette.datastructures import UploadFile

from companion.config import Settings
from companion.errors import PayloadTooLarge, UnsupportedMediaType, ValidationFailed
from companion.jobs import runner as job_runner
from companion.jobs.endpoints import JOBS_PATH
from companion.jobs.imports import repository as repo
from companion.jobs.imports import service
from companion.jobs.imports.kinds import KINDS
from companion.jobs.imports.models import DataImport
from companion.jobs.imports.reading import to_csv
from companion.jobs.models import Job
from companion.web.deps import ContainerDep, ContextDep, Page, PageDep, RecordId, SessionDep

IMPORTS_PATH = "/api/v1/ai/imports"
# Room for the multipart envelope around the file.
MULTIPART_ALLOWANCE = 64 * 1024

router = APIRouter(prefix="/ai/imports", tags=["imports"])


def body_limits(settings: Settings) -> dict[str, int]:
    """The upload route's body limit (import files exceed api.max_body_bytes)."""
    limit = settings.jobs.import_max_bytes + MULTIPART_ALLOWANCE
    return {IMPORTS_PATH: max(limit, settings.api.max_body_bytes)}


class ImportEventOut(BaseModel):
    """One status change."""

    from_status: str | None
    to_status: str
    message: str | None
    created_at: dt.datetime


class ImportOut(BaseModel):
    """An import: its status, counts, first row errors (line numbers) and history."""

    id: int
    kind: str
    filename: str
    file_format: str
    status: str
    total_rows: int
    valid_rows: int
    error_count: int
    duplicate_count: int
    errors: list[dict[str, Any]]
    summary: dict[str, Any]
    job_id: str | None
    job_url: str | None
    created_at: dt.datetime
    committed_at: dt.datetime | None
    events: list[ImportEventOut] | None = None


class ImportAccepted(BaseModel):
    """202: the import and the job now working on it."""

    data_import: ImportOut
    job_id: str
    status_url: str


def import_out(row: DataImport, *, events: list[ImportEventOut] | None = None) -> ImportOut:
    """The API view of an import."""
    return ImportOut(
        id=row.id,
        kind=row.kind,
        filename=row.filename,
        file_format=row.file_format,
        status=row.status,
        total_rows=row.total_rows,
        valid_rows=row.valid_rows,
        error_count=row.error_count,
        duplicate_count=row.duplicate_count,
        errors=list(row.errors or [])[:100],
        summary=dict(row.summary or {}),
        job_id=row.job_id,
        job_url=f"{JOBS_PATH}/{row.job_id}" if row.job_id else None,
        created_at=row.created_at,
        committed_at=row.committed_at,
        events=events,
    )


def _accepted(row: DataImport, job: Job) -> ImportAccepted:
    return ImportAccepted(
        data_import=import_out(row), job_id=job.id, status_url=f"{JOBS_PATH}/{job.id}"
    )


# The form is read by hand (a size limit on the file); the OpenAPI states it all the same.
_UPLOAD_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["kind", "file"],
                "properties": {
                    "kind": {"type": "string", "enum": sorted(KINDS)},
                    "file": {"type": "string", "format": "binary", "description": "CSV or XLSX"},
                },
            }
        }
    },
}


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=ImportAccepted,
    openapi_extra={"requestBody": _UPLOAD_BODY},
)
async def upload_import(
    request: Request, session: SessionDep, ctx: ContextDep, container: ContainerDep
) -> ImportAccepted:
    """Upload a CSV (UTF-8) or XLSX file of ``kind``.

    ``kind``: customers, suppliers, items or opening_balances. Multipart: fields ``kind`` and
    ``file``. The file's shape is checked now (encoding,
    header, required columns: 422); its rows by a validation job (202 and its status URL).
    """
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "multipart/form-data":
        raise UnsupportedMediaType(
            "Send the file as multipart/form-data (fields 'kind' and 'file')",
            details={"content_type": content_type or None},
        )
    limit = container.settings.jobs.import_max_bytes
    async with request.form(max_files=1, max_fields=5) as form:
        upload, kind = form.get("file"), form.get("kind")
        if not isinstance(upload, UploadFile):
            raise ValidationFailed(
                "Attach the file as the form field 'file'", details={"field": "file"}
            )
        if not isinstance(kind, str) or not kind:
            raise ValidationFailed(
                "Say what the file holds in the form field 'kind'", details={"field": "kind"}
            )
        data = await upload.read(limit + 1)
        if len(data) > limit:
            raise PayloadTooLarge("The file is too large", details={"max_bytes": limit})
        row, job = await run_in_threadpool(
            service.upload,
            session,
            ctx,
            kind_name=kind,
            filename=upload.filename,
            data=data,
            data_dir=container.settings.data_dir,
            runner=job_runner.runner_for(container),
        )
    return _accepted(row, job)


@router.get("", response_model=Page[ImportOut])
def list_imports(session: SessionDep, ctx: ContextDep, page: PageDep) -> Page[ImportOut]:
    """The company's imports of the kinds the caller may import, newest first."""
    rows, total = repo.list_for(
        session, ctx, service.visible_kinds(ctx), limit=page.limit, offset=page.offset
    )
    return Page(
        items=[import_out(r) for r in rows], total=total, limit=page.limit, offset=page.offset
    )


def _visible(session: SessionDep, ctx: ContextDep, import_id: int) -> DataImport:
    row = repo.get(session, ctx, import_id)
    service.kind_for(ctx, row.kind)
    return row


@router.get("/{import_id}", response_model=ImportOut)
def get_import(import_id: RecordId, session: SessionDep, ctx: ContextDep) -> ImportOut:
    """One import with its first row errors and its status history."""
    row = _visible(session, ctx, import_id)
    events = [
        ImportEventOut(
            from_status=e.from_status,
            to_status=e.to_status,
            message=e.message,
            created_at=e.created_at,
        )
        for e in repo.events(session, ctx, row.id)
    ]
    return import_out(row, events=events)


@router.get("/{import_id}/errors.csv", response_class=Response)
def import_errors_csv(import_id: RecordId, session: SessionDep, ctx: ContextDep) -> Response:
    """The row errors as CSV (cells that a spreadsheet would run as formulas are quoted)."""
    row = _visible(session, ctx, import_id)
    lines = [
        [e.get("line"), e.get("column"), e.get("message"), e.get("value")] for e in row.errors or []
    ]
    body = to_csv(["line", "column", "message", "value"], lines)
    filename = f"import-{row.id}-errors.csv"
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.post(
    "/{import_id}/commit", status_code=status.HTTP_202_ACCEPTED, response_model=ImportAccepted
)
def commit_import(
    import_id: RecordId, session: SessionDep, ctx: ContextDep, container: ContainerDep
) -> ImportAccepted:
    """Write every row of a validated import in one transaction (a job; 409 unless validated)."""
    row, job = service.commit(session, ctx, import_id, runner=job_runner.runner_for(container))
    return _accepted(row, job)


@router.post("/{import_id}/discard", response_model=ImportOut)
def discard_import(
    import_id: RecordId, session: SessionDep, ctx: ContextDep, container: ContainerDep
) -> ImportOut:
    """Drop an import that was not committed, and its file."""
    return import_out(service.discard(session, ctx, import_id, container.settings.data_dir))
