"""Two submits of the same correction at the same moment, in two transactions on both
databases: one feedback row and one training example, and neither request fails.

This test commits (the race needs two real transactions) and deletes what it made."""

from __future__ import annotations

import threading
import uuid

from sqlalchemy import delete, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from companion.assistant.learning.feedback import give_feedback
from companion.assistant.learning.models import MessageFeedback, TelemetryEvent, TrainingExample
from companion.assistant.learning.schemas import FeedbackIn
from companion.assistant.models import Conversation, Message
from companion.auth.models import User
from companion.kit.db import begin_for_writing, make_session_factory, session_scope
from companion.tenancy.context import RequestContext
from companion.tenancy.models import Company, Membership
from factories import make_company, make_context
from learning_fixtures import answered


def test_a_double_submit_stores_one_feedback_and_one_example(engine: Engine) -> None:
    factory = make_session_factory(engine)
    slug = f"race-{uuid.uuid4().hex[:8]}"
    with session_scope(factory) as session:
        company = make_company(session, slug)
        ctx = make_context(session, company, ["finance"], f"{slug}-user")
        message_id = answered(session, ctx, "how is the kitty", "greet")
    body = FeedbackIn.model_validate({"rating": "down", "correction": {"intent": "cash_balance"}})
    barrier = threading.Barrier(2)
    results: list[object] = []

    def submit() -> None:
        session = factory()
        try:
            barrier.wait(timeout=10)
            begin_for_writing(session)
            results.append(give_feedback(session, ctx, message_id, body).example_id)
            session.commit()
        except Exception as exc:  # reported below: the assertion names it
            session.rollback()
            results.append(exc)
        finally:
            session.close()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert not [r for r in results if isinstance(r, Exception)], results
        with factory() as session:
            feedback = (
                session.execute(
                    select(MessageFeedback).where(MessageFeedback.message_id == message_id)
                )
                .scalars()
                .all()
            )
            examples = (
                session.execute(
                    select(TrainingExample).where(TrainingExample.message_id == message_id)
                )
                .scalars()
                .all()
            )
        assert len(feedback) == 1 and feedback[0].thumbs == -1
        assert len(examples) == 1 and examples[0].intent == "cash_balance"
        assert results[0] == results[1] == examples[0].id
    finally:
        _clean(factory, ctx)


def _clean(factory: sessionmaker[Session], ctx: RequestContext) -> None:
    with session_scope(factory) as session:
        company = ctx.company_id
        for model in (TelemetryEvent, TrainingExample, MessageFeedback, Message, Conversation):
            session.execute(delete(model).where(model.company_id == company))
        session.execute(delete(Membership).where(Membership.company_id == company))
        session.execute(delete(User).where(User.id == ctx.user_id))
        session.execute(delete(Company).where(Company.id == company))
