"""Feedback on an answer: thumbs, a 1-5 score and a correction that becomes a training example.

A correction ("the right intent was ...", "the right answer is ...", "you misread the
customer") creates, or updates, the message's training example in status ``review``; a
reviewer decides what it teaches (``review.py``). The last feedback on a message wins.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from companion.assistant import repository as chat_repo
from companion.assistant.learning import repository as repo
from companion.assistant.learning.models import ExampleStatus, MessageFeedback, TrainingExample
from companion.assistant.learning.schemas import Correction, FeedbackIn, FeedbackOut
from companion.assistant.models import Message
from companion.kit import telemetry
from companion.kit.jsonable import jsonable
from companion.tenancy.context import RequestContext

# The rating slot on the message stores +1 / -1 so that reviews can sum and average it.
_THUMBS = {"up": 1, "down": -1}


def give_feedback(
    session: Session, ctx: RequestContext, message_id: str, body: FeedbackIn
) -> FeedbackOut:
    """Store the caller's feedback on one of their answers (another's answer is a 404)."""
    answer = chat_repo.get_answer(session, ctx, message_id)
    if body.rating is not None:  # the thumbs also stay on the message, as before
        answer.rating = _THUMBS[body.rating]
        answer.rating_comment = body.comment
    correction = body.correction.model_dump(exclude_none=True) if body.correction else None
    _upsert_feedback(session, ctx, answer, body, correction)
    example = _example_from(session, ctx, answer, body.correction) if body.correction else None
    telemetry.emit(
        session,
        telemetry.FEEDBACK,
        company_id=ctx.company_id,
        user_id=ctx.user_id,
        message_id=answer.id,
        data={
            "rating": body.rating,
            "score": body.score,
            "intent": answer.intent,
            "corrected": sorted(correction) if correction else [],
        },
    )
    session.flush()
    return FeedbackOut(
        message_id=answer.id,
        rating=body.rating,
        comment=body.comment,
        score=body.score,
        correction=correction,
        example_id=example.id if example is not None else None,
    )


def _upsert_feedback(
    session: Session,
    ctx: RequestContext,
    answer: Message,
    body: FeedbackIn,
    correction: dict[str, Any] | None,
) -> MessageFeedback:
    values: dict[str, Any] = {
        "user_id": ctx.user_id,
        "thumbs": _THUMBS[body.rating] if body.rating else None,
        "score": body.score,
        "comment": body.comment,
        "correction": jsonable(correction),
    }
    row = repo.feedback_of(session, ctx, answer.id)
    if row is None:
        try:
            # A double submit races on the unique (company, message): the loser updates.
            with session.begin_nested():
                row = MessageFeedback(company_id=ctx.company_id, message_id=answer.id, **values)
                session.add(row)
                session.flush()
            return row
        except IntegrityError:
            row = repo.feedback_of(session, ctx, answer.id)
            assert row is not None
    for key, value in values.items():
        setattr(row, key, value)
    return row


def _example_from(
    session: Session, ctx: RequestContext, answer: Message, correction: Correction
) -> TrainingExample:
    question = repo.question_of(session, ctx, answer)
    text = question.content if question is not None else ""
    kinds = [
        kind
        for kind, given in (
            ("intent", correction.intent),
            ("answer", correction.answer),
            ("entity", correction.entities),
        )
        if given
    ]
    entities = dict(answer.entities or {})
    if correction.entities:
        entities.update(jsonable(correction.entities))
    values: dict[str, Any] = {
        "text": text,
        "predicted_intent": answer.intent,
        "intent": correction.intent or answer.intent,
        "entities": entities or None,
        "answer": correction.answer,
        "kinds": kinds,
        "status": ExampleStatus.REVIEW.value,
        "created_by": ctx.user_id,
        "reviewer_id": None,
        "reviewer_notes": None,
        "reviewed_at": None,
    }
    example = repo.example_for_message(session, ctx, answer.id)
    if example is None:
        try:
            with session.begin_nested():
                example = TrainingExample(company_id=ctx.company_id, message_id=answer.id, **values)
                session.add(example)
                session.flush()
            return example
        except IntegrityError:
            example = repo.example_for_message(session, ctx, answer.id)
            assert example is not None
    # A new correction of the same answer goes back to review, whatever was decided before.
    for key, value in values.items():
        setattr(example, key, value)
    session.flush()
    return example
