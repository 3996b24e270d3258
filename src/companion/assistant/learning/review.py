"""Review of training examples: approve, reject or edit, one at a time or in bulk (``ai.review``).

Every decision is audited with the example's old and new values. An edit may change the
intent, the answer or the entities and leaves the example in review; approving or rejecting
may carry the same edits.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from companion.assistant.learning import repository as repo
from companion.assistant.learning.models import ExampleStatus, TrainingExample
from companion.assistant.learning.schemas import BulkReviewIn, BulkReviewOut, ExampleOut, ReviewIn
from companion.audit import service as audit
from companion.errors import NotFound
from companion.kit.db import utcnow
from companion.kit.jsonable import jsonable
from companion.tenancy.context import RequestContext

PERMISSION = "ai.review"
_STATUS = {"approve": ExampleStatus.APPROVED.value, "reject": ExampleStatus.REJECTED.value}


def example_out(example: TrainingExample) -> ExampleOut:
    return ExampleOut.model_validate(example, from_attributes=True)


def list_examples(
    session: Session, ctx: RequestContext, *, status: str | None, limit: int, offset: int
) -> tuple[list[ExampleOut], int]:
    """The company's examples, newest first, optionally of one status."""
    ctx.require(PERMISSION)
    rows, total = repo.list_examples(session, ctx, status=status, limit=limit, offset=offset)
    return [example_out(r) for r in rows], total


def review(session: Session, ctx: RequestContext, example_id: int, body: ReviewIn) -> ExampleOut:
    """Apply one reviewer's decision (and edits) to one example."""
    ctx.require(PERMISSION)
    example = repo.get_example(session, ctx, example_id)
    _decide(session, ctx, example, body.decision, body.notes, _edits(body))
    session.flush()
    return example_out(example)


def bulk_review(session: Session, ctx: RequestContext, body: BulkReviewIn) -> BulkReviewOut:
    """One decision for many examples: all of them or, if any id is unknown, none."""
    ctx.require(PERMISSION)
    wanted = sorted(set(body.ids))
    examples = repo.examples_by_ids(session, ctx, wanted)
    missing = sorted(set(wanted) - {e.id for e in examples})
    if missing:
        raise NotFound("Training examples not found", details={"ids": missing[:50]})
    for example in examples:
        _decide(session, ctx, example, body.decision, body.notes, {})
    session.flush()
    return BulkReviewOut(decision=body.decision, count=len(examples), ids=wanted)


def _edits(body: ReviewIn) -> dict[str, Any]:
    edits: dict[str, Any] = {}
    if body.intent is not None:
        edits["intent"] = body.intent
    if body.answer is not None:
        edits["answer"] = body.answer
    if body.entities is not None:
        edits["entities"] = jsonable(body.entities)
    return edits


def _snapshot(example: TrainingExample) -> dict[str, Any]:
    return {
        "status": example.status,
        "intent": example.intent,
        "answer": example.answer,
        "entities": example.entities,
        "kinds": list(example.kinds or []),
        "reviewer_notes": example.reviewer_notes,
    }


def _decide(
    session: Session,
    ctx: RequestContext,
    example: TrainingExample,
    decision: str,
    notes: str | None,
    edits: dict[str, Any],
) -> None:
    old = _snapshot(example)
    kinds = list(example.kinds or [])
    for key, value in edits.items():
        setattr(example, key, value)
        kind = "entity" if key == "entities" else key
        if kind not in kinds:
            kinds.append(kind)
    example.kinds = kinds
    if decision in _STATUS:
        example.status = _STATUS[decision]
    if notes is not None:
        example.reviewer_notes = notes
    example.reviewer_id = ctx.user_id
    example.reviewed_at = utcnow()
    audit.record(
        session,
        ctx,
        f"training_example.{decision}",
        "training_example",
        example.id,
        old=old,
        new=_snapshot(example),
    )
