"""The knowledge ingestion job on a real thread runner: ``done`` means searchable.

A client polls the job and asks about the document the moment it reads ``done``; the last
section (the last chunks embedded) must already be found, on SQLite and PostgreSQL, with
the real ONNX embedder and the local index.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from companion.auth.models import User
from companion.bootstrap import Container, bootstrap
from companion.config import AuthSettings, LLMSettings, Settings
from companion.jobs import runner as job_runner
from companion.jobs.knowledge import BackgroundUploads
from companion.jobs.models import DONE, FAILED, Job
from companion.jobs.runner import JobRunner
from companion.kit import migrate
from companion.kit.db import session_scope
from companion.knowledge.models import KnowledgeChunk
from companion.knowledge.schemas import EntryMeta
from companion.tenancy.context import RequestContext
from dbutil import new_database_url
from factories import make_company, make_context

WAIT_S = 600  # embedding runs at a few chunks a second on a busy 2-core machine
SECTIONS = 40
LAST_FACT = "The Savar depot keeps its spare tyres in cage 57."


@pytest.fixture
def container(backend: str, tmp_path: Path, pg_database_factory: list[str]) -> Iterator[Container]:
    """A container on a private database with real commits, and a two-thread job runner."""
    url = new_database_url(backend, tmp_path, pg_database_factory)
    settings = Settings(
        database_url=url,
        data_dir=tmp_path,
        demo_mode=False,
        auth=AuthSettings(secret_key=f"jobs-test-secret-{uuid.uuid4().hex}"),
        llm=LLMSettings(provider="none"),
    )
    container = bootstrap(settings)
    migrate.upgrade(container.engine)
    job_runner.install(
        container,
        JobRunner(container.session_factory, job_runner.default_handlers(container), workers=2),
    )
    try:
        yield container
    finally:
        job_runner.release(container)
        container.engine.dispose()


def policy_manual() -> bytes:
    """A Markdown manual of ``SECTIONS`` sections; only the last one names the Savar depot."""
    parts = ["# Depot operations manual\n"]
    for n in range(1, SECTIONS + 1):
        parts.append(
            f"## Rule {n}: forklift bay {n}\n\n"
            f"Forklift bay {n} is inspected every {n % 7 + 1} days by the shift lead. "
            f"Drivers sign the bay {n} log before and after each shift, and any damage is "
            f"reported to the warehouse manager the same day. Pallets in bay {n} are stacked "
            f"no higher than {n % 3 + 2} levels, and the aisle is kept clear at all times.\n"
        )
    parts.append(f"## Spare parts\n\n{LAST_FACT}\n")
    return "\n".join(parts).encode()


def test_the_job_says_done_only_once_the_last_chunk_is_searchable(
    container: Container,
) -> None:
    with session_scope(container.session_factory) as session:
        company = make_company(session, f"co-{uuid.uuid4().hex[:8]}")
        ctx: RequestContext = make_context(session, company, ["admin"])
        assert session.get(User, ctx.user_id) is not None
    retriever = container.retriever()  # as a running server has it: built before the upload
    indexed_before = retriever.vector_index.count()
    data = policy_manual()
    with session_scope(container.session_factory) as session:
        accepted = BackgroundUploads(container).queue(
            session, ctx, data, filename="depot.md", content_type="text/markdown", meta=EntryMeta()
        )

    # Poll as a client does; remember what the job said on the way.
    messages: list[str] = []
    deadline = time.monotonic() + WAIT_S
    while True:
        with container.session_factory() as session:
            job = session.get(Job, accepted.job_id)
            assert job is not None
            status, message, result = job.status, job.message, job.result
        if message and (not messages or messages[-1] != message):
            messages.append(message)
        if status in (DONE, FAILED):
            break
        assert time.monotonic() < deadline, f"the job did not finish: {messages}"
        time.sleep(0.02)

    # Asked at once, before anything else can catch up.
    hits = retriever.retrieve(
        "Where are the spare tyres kept at the Savar depot?",
        company_id=ctx.company_id,
        roles=list(ctx.roles),
    ).hits
    assert status == DONE, messages
    assert result is not None
    assert hits and "cage 57" in hits[0].chunk.text, [h.chunk.text[:80] for h in hits]
    with container.session_factory() as session:
        rows = session.scalar(
            select(func.count())
            .select_from(KnowledgeChunk)
            .where(KnowledgeChunk.document_id == result["document_id"])
        )
    assert rows is not None and rows > SECTIONS // 2
    assert retriever.vector_index.count() - indexed_before == rows  # every row is indexed
    # The job reported the embedding, not only the reading.
    assert any(m.startswith("Indexed ") and m.endswith(f" of {rows} chunks") for m in messages)
