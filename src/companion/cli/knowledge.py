"""``companion ingest``, ``help-sync`` and ``kb-index``: the knowledge base from a shell."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import select

from companion.bootstrap import Container
from companion.cli.common import (
    CLI_ACTOR,
    cli_errors,
    fail,
    migrated_container,
    out,
)
from companion.cli.main import app
from companion.errors import CompanionError
from companion.kit.db import session_scope
from companion.knowledge import service
from companion.knowledge.chunking import ChunkingOptions
from companion.knowledge.parsers import SUPPORTED
from companion.knowledge.schemas import EntryMeta
from companion.tenancy.models import Company


def _files(path: Path) -> list[Path]:
    """The file itself, or the supported files under a folder (sorted, hidden ones skipped)."""
    if path.is_file():
        return [path]
    return sorted(
        p
        for p in path.rglob("*")
        if p.is_file()
        and p.suffix.lower() in SUPPORTED
        and not any(part.startswith(".") for part in p.relative_to(path).parts)
    )


def _split(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


@app.command()
def ingest(
    path: Annotated[Path, typer.Argument(help="A file, or a folder of files, to add")],
    company: Annotated[str, typer.Option(help="Slug of the company the documents belong to")],
    doc_type: Annotated[
        str | None,
        typer.Option("--type", help="FAQ, POLICY, PROCEDURE, GUIDE or NOTE (default POLICY)"),
    ] = None,
    roles: Annotated[
        str | None, typer.Option(help="Only these roles may read them (comma-separated)")
    ] = None,
    tags: Annotated[str | None, typer.Option(help="Tags (comma-separated)")] = None,
    module: Annotated[str | None, typer.Option(help="The ERP module they are about")] = None,
) -> None:
    """Add or update documents (Markdown, text, HTML, PDF, DOCX); unchanged files are skipped."""
    if not path.exists():
        raise fail(f"{path} does not exist")
    files = _files(path)
    if not files:
        raise fail(f"No supported files under {path} ({', '.join(SUPPORTED)})")
    with cli_errors():
        meta = EntryMeta.model_validate(
            {
                k: v
                for k, v in {
                    "type": doc_type.upper() if doc_type else None,
                    "roles": _split(roles),
                    "tags": _split(tags),
                    "module": module,
                }.items()
                if v
            }
        )
        with migrated_container() as c:
            rows, failed = _ingest_all(c, company, files, path, meta)
    _report(rows)
    if failed:
        raise typer.Exit(1)


def _ingest_all(
    c: Container, slug: str, files: list[Path], root: Path, meta: EntryMeta
) -> tuple[list[tuple[str, str, str]], int]:
    """Each file in its own transaction, so one bad file does not lose the others."""
    with session_scope(c.session_factory) as session:
        company_id = session.execute(
            select(Company.id).where(Company.slug == slug)
        ).scalar_one_or_none()
    if company_id is None:
        raise fail(f"No company with slug '{slug}'")
    rows: list[tuple[str, str, str]] = []
    failed = 0
    index = service.LazyIndex(c.retriever)
    options = ChunkingOptions.from_settings(c.settings.rag)
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=out, transient=True, disable=len(files) == 1) as bar:
        task = bar.add_task("Ingesting", total=len(files))
        for file in files:
            name = file.name if file == root else str(file.relative_to(root))
            bar.update(task, description=escape(name))
            try:
                with session_scope(c.session_factory) as session:
                    result = service.ingest_trusted(
                        session,
                        company_id,
                        file.read_bytes(),
                        actor=CLI_ACTOR,
                        filename=name,
                        meta=meta,
                        index=index,
                        options=options,
                    )
                    rows.append((name, result.status, f"v{result.document.version}"))
            except CompanionError as exc:
                failed += 1
                rows.append((name, "failed", exc.message))
            bar.advance(task)
    return rows, failed


@app.command("help-sync")
def help_sync() -> None:
    """Load the product's own help pages (the global corpus) and update the index."""
    with cli_errors(), migrated_container() as c, session_scope(c.session_factory) as session:
        report = service.sync_global_corpus(
            session,
            index=service.LazyIndex(c.retriever),
            options=ChunkingOptions.from_settings(c.settings.rag),
        )
    out.print(
        f"Help pages: {report.created} created, {report.updated} updated, "
        f"{report.unchanged} unchanged, {report.removed} removed."
    )


def _report(rows: list[tuple[str, str, str]]) -> None:
    table = Table("file", "result", "version or reason")
    colours = {"created": "green", "updated": "cyan", "unchanged": "dim", "failed": "red"}
    for name, status, detail in rows:
        table.add_row(escape(name), f"[{colours[status]}]{status}[/]", escape(detail))
    out.print(table)
    counts = {s: sum(1 for r in rows if r[1] == s) for s in colours}
    out.print(", ".join(f"{n} {s}" for s, n in counts.items() if n) + ".")


index_app = typer.Typer(
    no_args_is_help=True, help="The knowledge index: its versions, a rebuild, a rollback."
)
app.add_typer(index_app, name="kb-index")


@index_app.command("status")
def index_status() -> None:
    """The live index version, every version kept, and the chunks in the live one."""
    with cli_errors(), migrated_container() as c:
        index = c.retriever().vector_index
        live = index.current_version()
        out.print(f"Live version: {live or 'none'} ({index.count()} chunks).")
        for version in index.versions():
            out.print(f"  {version}{'  (live)' if version == live else ''}")


@index_app.command("rebuild")
def index_rebuild() -> None:
    """Build a new version from the database beside the live one, then switch to it.

    The live version answers questions until the switch; roll back with
    ``companion kb-index rollback``.
    """
    from companion.knowledge.repository import iter_chunk_docs

    with cli_errors(), migrated_container() as c:
        retriever = c.retriever()
        with session_scope(c.session_factory) as session:
            version = retriever.rebuild(iter_chunk_docs(session))
        count = retriever.vector_index.count()
    out.print(f"Rebuilt the knowledge index: version {version} is live ({count} chunks).")


@index_app.command("rollback")
def index_rollback() -> None:
    """Switch back to the version before the live one."""
    with cli_errors(), migrated_container() as c:
        version = c.retriever().vector_index.rollback()
    out.print(f"Rolled back the knowledge index: version {version} is live.")
