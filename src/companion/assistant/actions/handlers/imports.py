"""commit_import in chat: "commit import 12" -> a confirmation -> "yes" -> the commit job.

Nothing is written before the user confirms: the proposal only reads the import (it must be
validated). Confirming moves it to committing and queues the same commit job as the REST
API (``POST /api/v1/ai/imports/{id}/commit``), which writes every row in one transaction
once the turn has committed. The confirmation runs once; the import's own conditional
status change refuses a second commit from anywhere else (the API, another conversation).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from companion.assistant.actions.base import Ask, Outcome, Proposal, register_action
from companion.assistant.actions.handlers.support import checked
from companion.assistant.imports import DataImports, ImportFacts, imports_port
from companion.assistant.skills.imports import describe, import_kind, import_number, unavailable
from companion.errors import CompanionError, InvalidState, NotFound
from companion.tenancy.context import RequestContext

_LATEST = ("last", "latest", "newest", "recent", "my")


class CommitImport:
    """commit_import: write a validated import's rows (a job, one transaction)."""

    action = "commit_import"
    # Everyone who chats may ask; the import's kind decides (sales.write for customers,
    # procurement.write for suppliers, ...), checked by the port like the REST API does.
    permission = "ai.use"

    def gather(
        self,
        session: Session,
        ctx: RequestContext,
        params: dict[str, Any],
        entities: dict[str, Any],
        text: str,
        today: dt.date,
    ) -> dict[str, Any]:
        """The import's number ("commit import 12", or "12" to "Which import?"), or the
        newest validated import of the kind named ("commit my customer import")."""
        p = dict(params)
        number = import_number(text)
        if number is None and text.strip().lstrip("#").isdigit():
            number = int(text.strip().lstrip("#"))
        if number is not None:
            p["import_id"] = number
            return p
        words = text.lower().split()
        port = imports_port()
        if (
            port
            and "import_id" not in p
            and (import_kind(text) or any(w in _LATEST for w in words))
        ):
            try:
                latest = port.latest(session, ctx, import_kind(text))
            except CompanionError:
                latest = None  # a kind they may not import: asked which one, then refused
            if latest is not None:
                p["import_id"] = latest.id
        return p

    def missing(self, session: Session, ctx: RequestContext, params: dict[str, Any]) -> Ask | None:
        """Which import."""
        if params.get("import_id") is None:
            return Ask("import_id", "Which import should I commit? Say its number, e.g. 12.")
        return None

    @checked
    def propose(self, session: Session, ctx: RequestContext, params: dict[str, Any]) -> Proposal:
        """A validated import of a kind the caller may import; nothing is written."""
        import_id = int(params["import_id"])
        facts = _validated(_port(), session, ctx, import_id)
        return Proposal(
            summary=f"Commit {facts.what}: write its {facts.valid_rows:,} "
            f"{facts.kind.replace('_', ' ')} row{'s' if facts.valid_rows != 1 else ''} in one "
            "transaction (all or none)",
            preview={
                "import_id": facts.id,
                "kind": facts.kind,
                "filename": facts.filename,
                "rows": facts.valid_rows,
                "status": facts.status,
            },
            params={"import_id": import_id},
        )

    def execute(self, session: Session, ctx: RequestContext, params: dict[str, Any]) -> Outcome:
        """Queue the commit job (it starts once this turn commits)."""
        facts = _port().commit(session, ctx, int(params["import_id"]))
        return Outcome(
            message=f"Committing {facts.what}: its {facts.valid_rows:,} rows are being written "
            f"in one transaction by a background job. Ask “status of import {facts.id}” to "
            "see when it is done.",
            document_ref=None,
            result={"import_id": facts.id, "status": facts.status, "job_id": facts.job_id},
        )


def _port() -> DataImports:
    port = imports_port()
    if port is None:
        raise NotFound(unavailable())
    return port


def _validated(
    port: DataImports, session: Session, ctx: RequestContext, import_id: int
) -> ImportFacts:
    """The import if it can be committed now; else why not (its state in words)."""
    try:
        facts = port.get(session, ctx, import_id)
    except NotFound:
        raise NotFound(
            f"there is no import {import_id}", details={"import_id": import_id}
        ) from None
    if facts.status != "validated":
        raise InvalidState(
            f"only a validated import can be committed. {describe(facts)}",
            details={"import_id": import_id, "status": facts.status},
        )
    return facts


register_action(CommitImport())
