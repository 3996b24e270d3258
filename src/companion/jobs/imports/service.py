"""Data imports: upload -> validate (a job) -> review -> commit (a job, one transaction).

An upload is stored beside the database (``data_dir/imports/<id>``) and checked at once for
what makes the whole file unusable (encoding, no header, missing required columns: a 422
naming it). A validation job then reads every row with the REST API's schema, reporting
progress, and records row errors with their line numbers and duplicates (within the file
and against the company's master data). Once reviewed, a commit job validates again (the
master data may have changed) and writes every row through the ERP services in one
transaction: all rows or none. Every status change is an event.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session

from companion.audit import service as audit
from companion.auth import repository as auth_repo
from companion.auth.service import context_for_user
from companion.errors import CompanionError, InvalidState, ValidationFailed
from companion.jobs import service as jobs
from companion.jobs.imports import repository as repo
from companion.jobs.imports.kinds import KINDS, ImportKind
from companion.jobs.imports.models import (
    COMMITTED,
    COMMITTING,
    DISCARDED,
    FAILED,
    INVALID,
    UPLOADED,
    VALIDATED,
    VALIDATING,
    DataImport,
)
from companion.jobs.imports.reading import (
    XLSX,
    ImportUnreadable,
    Row,
    decode_csv,
    file_format,
    read_rows,
)
from companion.jobs.models import Job
from companion.jobs.service import JobFailed, JobRun, Submitter
from companion.kit import telemetry
from companion.kit.db import begin_for_writing, utcnow
from companion.tenancy.context import RequestContext
from companion.tenancy.models import Company

VALIDATE, COMMIT = "import.validate", "import.commit"
IMPORTS = "imports"
# Row errors kept on the import (the count has them all); the rest are in the count.
MAX_STORED_ERRORS = 1000
# Rows between two progress reports (and flushes while committing).
STEP = 1000


def kind_for(ctx: RequestContext, name: str) -> ImportKind:
    """The kind by name, if the caller may import it."""
    kind = KINDS.get(name)
    if kind is None:
        raise ValidationFailed(
            f"Cannot import '{name[:32]}'", details={"kind": name[:32], "allowed": sorted(KINDS)}
        )
    ctx.require(kind.permission)
    return kind


def visible_kinds(ctx: RequestContext) -> list[str]:
    """The kinds whose imports the caller may see (those they may import)."""
    return [k.name for k in KINDS.values() if ctx.can(k.permission)]


def file_path(data_dir: Path, import_id: int) -> Path:
    """Where an import's file is kept."""
    return data_dir / IMPORTS / str(import_id)


def upload(
    session: Session,
    ctx: RequestContext,
    *,
    kind_name: str,
    filename: str | None,
    data: bytes,
    data_dir: Path,
    runner: Submitter | None,
) -> tuple[DataImport, Job]:
    """Keep the file, check its shape, and queue its validation (after the commit)."""
    kind = kind_for(ctx, kind_name)
    if not data.strip():
        raise ImportUnreadable("The file is empty", details={"filename": filename})
    fmt = file_format(filename, data)
    if fmt != XLSX:
        decode_csv(data)  # a wrong encoding is answered now, not by the job
    row = DataImport(
        company_id=ctx.company_id,
        user_id=ctx.user_id,
        kind=kind.name,
        filename=(filename or f"import.{fmt}")[:255],
        file_format=fmt,
        status=UPLOADED,
        errors=[],
        summary={"size": len(data)},
    )
    session.add(row)
    session.flush()
    path = file_path(data_dir, row.id)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    try:
        headers, _ = read_rows(path, fmt)
        _require_columns(kind, headers)
    except CompanionError:
        path.unlink(missing_ok=True)
        raise
    row.summary = {"size": len(data), "ignored_columns": sorted(set(headers) - set(kind.columns))}
    _record(session, ctx, row, None, UPLOADED, f"Uploaded {row.filename}")
    job = jobs.enqueue(session, ctx, VALIDATE, {"import_id": row.id}, runner=runner)
    row.job_id = job.id
    _set(session, ctx, row, VALIDATING, "Validation queued")
    return row, job


def _require_columns(kind: ImportKind, headers: list[str]) -> None:
    missing = [c for c in kind.required if c not in headers]
    if missing:
        raise ImportUnreadable(
            f"Missing column(s): {', '.join(missing)}",
            details={"missing": missing, "required": list(kind.required), "found": headers[:50]},
        )


@dataclass
class Checked:
    """What reading every row found."""

    total: int = 0
    valid: list[tuple[int, BaseModel]] = field(default_factory=list)
    valid_count: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    error_count: int = 0
    duplicate_count: int = 0

    def error(self, line: int, column: str | None, message: str, value: Any = None) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_STORED_ERRORS:
            text = None if value is None else str(value)[:100]
            self.errors.append({"line": line, "column": column, "message": message, "value": text})


def check(
    kind: ImportKind,
    path: Path,
    fmt: str,
    existing: dict[str, set[str]],
    *,
    references: Mapping[str, int] | None = None,
    keep_rows: bool = False,
    on_rows: Callable[[int], None] | None = None,
) -> Checked:
    """Validate every row of the file: schema errors and duplicates, with line numbers.

    ``existing``: the company's values of the kind's keys (``repository.existing_keys``);
    ``references``: the codes the kind's rows refer to (``repository.references``). A kind
    with rules over the whole file (opening balances must balance) keeps its valid rows.
    """
    headers, rows = read_rows(path, fmt)
    _require_columns(kind, headers)
    seen: dict[str, dict[str, int]] = {key: {} for key in kind.keys}
    refs = references or {}
    keep = keep_rows or kind.file_rule is not None
    result = Checked()
    for row in rows:
        result.total += 1
        model = _validated(kind, row, result)
        if model is not None and kind.row_rule is not None:
            problems = kind.row_rule(model, refs)
            for problem in problems:
                result.error(row.line, problem.column, problem.message, problem.value)
            model = None if problems else model
        if model is not None and _unique(kind, row.line, model, existing, seen, result):
            result.valid_count += 1
            if keep:
                result.valid.append((row.line, model))
        if on_rows is not None and result.total % STEP == 0:
            on_rows(result.total)
    if kind.file_rule is not None and result.valid:
        for problem in kind.file_rule(result.valid):
            result.error(problem.line, problem.column, problem.message, problem.value)
    if on_rows is not None:
        on_rows(result.total)
    return result


def _validated(kind: ImportKind, row: Row, result: Checked) -> BaseModel | None:
    values = {k: v for k, v in row.values.items() if k in kind.schema.model_fields and v != ""}
    try:
        return kind.schema.model_validate(values)
    except ValidationError as exc:
        for err in exc.errors(include_url=False):
            column = str(err["loc"][0]) if err["loc"] else None
            result.error(row.line, column, err["msg"], values.get(column or ""))
        return None


def _unique(
    kind: ImportKind,
    line: int,
    model: BaseModel,
    existing: dict[str, set[str]],
    seen: dict[str, dict[str, int]],
    result: Checked,
) -> bool:
    clean = True
    for key in kind.keys:
        value = getattr(model, key, None)
        if value is None:
            continue
        value = str(value)
        if value in existing[key]:
            result.error(line, key, f"A record with this {key} already exists", value)
        elif value in seen[key]:
            result.error(line, key, f"Same {key} as line {seen[key][value]}", value)
        else:
            seen[key][value] = line
            continue
        result.duplicate_count += 1
        clean = False
    return clean


# --- jobs ----------------------------------------------------------------------------------


def _job_context(session: Session, run: JobRun) -> RequestContext:
    """The uploader's context today (a member who lost the permission cannot go on)."""
    user = auth_repo.get_user(session, run.user_id) if run.user_id is not None else None
    company = session.get(Company, run.company_id)
    if user is None or company is None:
        raise JobFailed("The user who uploaded the file no longer exists")
    return context_for_user(session, user.username, company.slug)


def validate_job(data_dir: Path, run: JobRun) -> dict[str, Any]:
    """The ``import.validate`` job: check every row, then mark the import validated or invalid.

    The rows are read outside the write transaction (SQLite's lock is held only for the
    short status update at the end).
    """
    unreadable: ImportUnreadable | None = None
    with run.reading() as session:
        ctx = _job_context(session, run)
        row = repo.get(session, ctx, int(run.payload["import_id"]))
        path, fmt, kind = file_path(data_dir, row.id), row.file_format, KINDS[row.kind]
        existing = repo.existing_keys(session, ctx, kind)
        references = repo.references(session, ctx, kind)
    # No session is open while the rows are read: progress commits stand on their own.
    estimate = _estimated_rows(path, fmt)
    try:
        result = check(
            kind,
            path,
            fmt,
            existing,
            references=references,
            on_rows=lambda n: run.progress(n, max(n, estimate), f"Checked {n} rows"),
        )
    except ImportUnreadable as exc:
        unreadable, result = exc, Checked()
    session = run.writing()
    row = repo.get(session, ctx, int(run.payload["import_id"]))
    if unreadable is not None:
        result.error(unreadable.details.get("line") or 0, None, unreadable.message)
    elif result.total == 0:
        result.error(0, None, "The file has a header but no rows")
    row.total_rows, row.valid_rows = result.total, result.valid_count
    row.errors, row.error_count = result.errors, result.error_count
    row.duplicate_count = result.duplicate_count
    status = VALIDATED if row.error_count == 0 else INVALID
    _set(session, ctx, row, status, f"{result.total} rows, {row.error_count} errors")
    return {"import_id": row.id, "status": status, "rows": result.total, "errors": row.error_count}


def commit_job(data_dir: Path, run: JobRun) -> dict[str, Any]:
    """The ``import.commit`` job: every row written in one transaction, or none."""
    session = run.writing()
    ctx = _job_context(session, run)
    row = repo.get(session, ctx, int(run.payload["import_id"]))
    kind = KINDS[row.kind]
    try:
        ctx.require(kind.permission)
        existing = repo.existing_keys(session, ctx, kind)
        path = file_path(data_dir, row.id)
        references = repo.references(session, ctx, kind)
        result = check(kind, path, row.file_format, existing, references=references, keep_rows=True)
        if result.error_count:
            first = result.errors[0]
            raise ImportUnreadable(
                f"{result.error_count} row(s) are no longer valid (line {first['line']}: "
                f"{first['message']}); validate the file again",
            )
        total = len(result.valid)
        if kind.post is not None:  # the whole file at once (one voucher)
            kind.post(
                session, ctx, result.valid, references, import_id=row.id, filename=row.filename
            )
            session.flush()
        elif kind.create_many is not None:
            _create_batches(session, ctx, kind.create_many, result.valid, _progress(session, run))
        elif kind.create is not None:
            _create_rows(session, ctx, kind.create, result.valid, _progress(session, run))
    except CompanionError as exc:
        import_id = row.id  # read before the rollback expires the row
        session.rollback()  # nothing of the import stays; frees SQLite's write lock
        _record_failure(run, ctx, import_id, exc)
        raise JobFailed(exc.message) from exc
    row.committed_at = utcnow()
    _set(session, ctx, row, COMMITTED, f"{total} rows written")
    return {"import_id": row.id, "status": COMMITTED, "rows": total}


def _create_rows(
    session: Session,
    ctx: RequestContext,
    create: Callable[[Session, RequestContext, Any], object],
    rows: list[tuple[int, BaseModel]],
    report: Callable[[int, int, str], None],
) -> None:
    total = len(rows)
    for done, (line, model) in enumerate(rows, start=1):
        try:
            create(session, ctx, model)
        except CompanionError as exc:
            raise ImportUnreadable(f"Line {line}: {exc.message}", details={"line": line}) from exc
        if done % STEP == 0 or done == total:
            session.flush()
            report(done, total, f"Wrote {done} of {total} rows")


def _create_batches(
    session: Session,
    ctx: RequestContext,
    create_many: Callable[[Session, RequestContext, Sequence[Any]], object],
    rows: list[tuple[int, BaseModel]],
    report: Callable[[int, int, str], None],
) -> None:
    """Write ``STEP`` rows at a time (one insert, one audit append each), still all in the
    job's one transaction: a refused batch fails the whole import."""
    total = len(rows)
    for start in range(0, total, STEP):
        batch = rows[start : start + STEP]
        try:
            create_many(session, ctx, [model for _, model in batch])
        except CompanionError as exc:
            first, last = batch[0][0], batch[-1][0]
            raise ImportUnreadable(
                f"Lines {first}-{last}: {exc.message}", details={"line": first}
            ) from exc
        done = start + len(batch)
        report(done, total, f"Wrote {done} of {total} rows")


def _progress(session: Session, run: JobRun) -> Callable[[int, int, str], None]:
    """How the commit reports progress while its transaction is open.

    Progress is written in its own short transaction; on SQLite the commit's transaction
    holds the only write lock, so that write would wait for it and fail the job: there the
    job reports once, when it is done.
    """
    if session.get_bind().dialect.name == "sqlite":
        return lambda done, total, message: None
    return lambda done, total, message: run.progress(done, total, message)


def _record_failure(run: JobRun, ctx: RequestContext, import_id: int, exc: CompanionError) -> None:
    with run.session_factory() as session:
        begin_for_writing(session)
        row = repo.get(session, ctx, import_id)
        _set(session, ctx, row, FAILED, exc.message)
        session.commit()


def _set(session: Session, ctx: RequestContext, row: DataImport, to: str, message: str) -> None:
    before = row.status
    row.status = to
    session.flush()
    _record(session, ctx, row, before, to, message)


def _record(
    session: Session,
    ctx: RequestContext,
    row: DataImport,
    before: str | None,
    after: str,
    message: str,
) -> None:
    """A status change: the import's event, an audit entry and a telemetry event."""
    repo.add_event(session, ctx, row, before, after, message)
    change = {"import_id": row.id, "kind": row.kind, "from": before, "to": after}
    figures = {"rows": row.total_rows, "errors": row.error_count}
    audit.record(
        session,
        ctx,
        "import.status",
        "data_import",
        row.id,
        old={"status": before} if before else None,
        new={"status": after, "message": message[:500], **figures},
    )
    telemetry.emit(
        session,
        telemetry.IMPORT_STATUS,
        company_id=ctx.company_id,
        user_id=ctx.user_id or None,
        data={**change, **figures},
    )


def _estimated_rows(path: Path, fmt: str) -> int:
    """Rows in the file, roughly (progress before the end is known)."""
    if fmt == XLSX:
        return 0
    with path.open("rb") as handle:
        return max(
            0, sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b"")) - 1
        )


# --- requests ------------------------------------------------------------------------------


def commit(
    session: Session, ctx: RequestContext, import_id: int, *, runner: Submitter | None
) -> tuple[DataImport, Job]:
    """Queue the commit of a validated import (a second request for it is a 409)."""
    row = repo.get(session, ctx, import_id)
    kind_for(ctx, row.kind)
    if not repo.move(session, ctx, row, COMMITTING, allowed=(VALIDATED,)):
        raise InvalidState(
            f"Only a validated import can be committed; this one is {row.status}",
            details={"status": row.status},
        )
    _record(session, ctx, row, VALIDATED, COMMITTING, "Commit requested")
    job = jobs.enqueue(session, ctx, COMMIT, {"import_id": row.id}, runner=runner)
    row.job_id = job.id
    return row, job


def discard(session: Session, ctx: RequestContext, import_id: int, data_dir: Path) -> DataImport:
    """Drop an import that was not committed (its file is deleted after the commit)."""
    row = repo.get(session, ctx, import_id)
    kind_for(ctx, row.kind)
    before = row.status
    if not repo.move(session, ctx, row, DISCARDED, allowed=(VALIDATED, INVALID, FAILED)):
        raise InvalidState(
            f"An import that is {row.status} cannot be discarded", details={"status": row.status}
        )
    _record(session, ctx, row, before, DISCARDED, "Discarded")
    file_path(data_dir, row.id).unlink(missing_ok=True)
    return row
