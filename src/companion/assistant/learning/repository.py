"""All SQL of the learning loop; every read of tenant data goes through ``scoped``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from companion.assistant.actions.models import AiAction
from companion.assistant.learning.models import (
    Dataset,
    ExampleStatus,
    FinetuneRun,
    MessageFeedback,
    ModelStatus,
    NluModel,
    TelemetryEvent,
    TrainingExample,
)
from companion.assistant.models import Message
from companion.errors import NotFound
from companion.tenancy.context import RequestContext, scoped, scoped_later

# -- telemetry ------------------------------------------------------------------------------


def events_of_user(
    session: Session, ctx: RequestContext, user_id: int, *, limit: int, offset: int
) -> tuple[list[TelemetryEvent], int]:
    """One user's events in the caller's company, newest first, and how many there are."""
    base = scoped(select(TelemetryEvent), TelemetryEvent, ctx).where(
        TelemetryEvent.user_id == user_id
    )
    total = session.execute(select(func.count()).select_from(base.subquery())).scalar_one()
    rows = session.execute(
        base.order_by(TelemetryEvent.at.desc(), TelemetryEvent.id.desc())
        .limit(limit)
        .offset(offset)
    ).scalars()
    return list(rows), int(total)


def purge_events_before(session: Session, cutoff: dt.datetime) -> int:
    """Delete every company's events older than ``cutoff`` (the retention job); the count."""
    result = session.execute(delete(TelemetryEvent).where(TelemetryEvent.at < cutoff))
    return int(getattr(result, "rowcount", 0) or 0)


def purge_company_events_before(session: Session, company_id: int, cutoff: dt.datetime) -> int:
    """Delete one company's events older than ``cutoff`` (its periodic retention run)."""
    result = session.execute(
        delete(TelemetryEvent).where(
            TelemetryEvent.company_id == company_id, TelemetryEvent.at < cutoff
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)


def count_events(session: Session, ctx: RequestContext, kind: str | None = None) -> int:
    stmt = scoped(select(func.count()).select_from(TelemetryEvent), TelemetryEvent, ctx)
    if kind is not None:
        stmt = stmt.where(TelemetryEvent.kind == kind)
    return int(session.execute(stmt).scalar_one())


# -- feedback and examples ------------------------------------------------------------------


def feedback_of(session: Session, ctx: RequestContext, message_id: str) -> MessageFeedback | None:
    stmt = scoped(select(MessageFeedback), MessageFeedback, ctx).where(
        MessageFeedback.message_id == message_id
    )
    return session.execute(stmt).scalar_one_or_none()


def question_of(session: Session, ctx: RequestContext, answer: Message) -> Message | None:
    """The user's message an answer replied to (the one just before it)."""
    stmt = (
        scoped(select(Message), Message, ctx)
        .where(
            Message.conversation_id == answer.conversation_id,
            Message.role == "user",
            Message.seq < answer.seq,
        )
        .order_by(Message.seq.desc())
        .limit(1)
    )
    return session.execute(stmt).scalar_one_or_none()


def example_for_message(
    session: Session, ctx: RequestContext, message_id: str
) -> TrainingExample | None:
    stmt = scoped(select(TrainingExample), TrainingExample, ctx).where(
        TrainingExample.message_id == message_id
    )
    return session.execute(stmt).scalar_one_or_none()


def get_example(session: Session, ctx: RequestContext, example_id: int) -> TrainingExample:
    """One example of the caller's company; another company's is NotFound."""
    stmt = scoped(select(TrainingExample), TrainingExample, ctx).where(
        TrainingExample.id == example_id
    )
    example = session.execute(stmt).scalar_one_or_none()
    if example is None:
        raise NotFound("Training example not found", details={"id": example_id})
    return example


def examples_by_ids(
    session: Session, ctx: RequestContext, ids: Sequence[int]
) -> list[TrainingExample]:
    stmt = scoped(select(TrainingExample), TrainingExample, ctx).where(
        TrainingExample.id.in_(list(ids))
    )
    return list(session.execute(stmt.order_by(TrainingExample.id)).scalars())


def list_examples(
    session: Session, ctx: RequestContext, *, status: str | None, limit: int, offset: int
) -> tuple[list[TrainingExample], int]:
    base = scoped(select(TrainingExample), TrainingExample, ctx)
    if status:
        base = base.where(TrainingExample.status == status)
    total = session.execute(select(func.count()).select_from(base.subquery())).scalar_one()
    rows = session.execute(
        base.order_by(TrainingExample.id.desc()).limit(limit).offset(offset)
    ).scalars()
    return list(rows), int(total)


def approved_examples(
    session: Session, ctx: RequestContext, *, limit: int | None = None, intents_only: bool = False
) -> list[TrainingExample]:
    """Approved examples, oldest first (``limit``: the newest ``limit`` of them)."""
    stmt = scoped(select(TrainingExample), TrainingExample, ctx).where(
        TrainingExample.status == ExampleStatus.APPROVED
    )
    if intents_only:
        stmt = stmt.where(TrainingExample.intent.is_not(None))
    if limit is not None:
        newest = stmt.order_by(TrainingExample.id.desc()).limit(limit)
        return sorted(session.execute(newest).scalars(), key=lambda e: e.id)
    return list(session.execute(stmt.order_by(TrainingExample.id)).scalars())


def last_review_at(session: Session, ctx: RequestContext) -> dt.datetime | None:
    """When an example of the company was last approved or rejected (None: never)."""
    stmt = scoped(select(func.max(TrainingExample.reviewed_at)), TrainingExample, ctx)
    return session.execute(stmt).scalar_one()


# -- datasets and fine-tune records ---------------------------------------------------------


def latest_dataset(session: Session, ctx: RequestContext) -> Dataset | None:
    """The company's newest dataset version, if any."""
    stmt = scoped(select(Dataset), Dataset, ctx).order_by(Dataset.version.desc()).limit(1)
    return session.execute(stmt).scalars().first()


def next_dataset_version(session: Session, ctx: RequestContext) -> int:
    stmt = scoped(select(func.max(Dataset.version)), Dataset, ctx)
    return int(session.execute(stmt).scalar_one() or 0) + 1


def list_datasets(session: Session, ctx: RequestContext) -> list[Dataset]:
    stmt = scoped(select(Dataset), Dataset, ctx).order_by(Dataset.version.desc())
    return list(session.execute(stmt).scalars())


def get_dataset(session: Session, ctx: RequestContext, version: int) -> Dataset:
    stmt = scoped(select(Dataset), Dataset, ctx).where(Dataset.version == version)
    dataset = session.execute(stmt).scalar_one_or_none()
    if dataset is None:
        raise NotFound("Dataset version not found", details={"version": version})
    return dataset


def get_dataset_by_id(session: Session, ctx: RequestContext, dataset_id: int) -> Dataset:
    stmt = scoped(select(Dataset), Dataset, ctx).where(Dataset.id == dataset_id)
    dataset = session.execute(stmt).scalar_one_or_none()
    if dataset is None:
        raise NotFound("Dataset not found", details={"id": dataset_id})
    return dataset


def list_finetunes(session: Session, ctx: RequestContext) -> list[tuple[FinetuneRun, int]]:
    stmt = (
        scoped(select(FinetuneRun, Dataset.version), FinetuneRun, ctx)
        .join(Dataset, Dataset.id == FinetuneRun.dataset_id)
        .order_by(FinetuneRun.id.desc())
    )
    return [(run, int(version)) for run, version in session.execute(stmt).all()]


def get_finetune(session: Session, ctx: RequestContext, run_id: int) -> tuple[FinetuneRun, int]:
    stmt = (
        scoped(select(FinetuneRun, Dataset.version), FinetuneRun, ctx)
        .join(Dataset, Dataset.id == FinetuneRun.dataset_id)
        .where(FinetuneRun.id == run_id)
    )
    row = session.execute(stmt).one_or_none()
    if row is None:
        raise NotFound("Fine-tune run not found", details={"id": run_id})
    return row[0], int(row[1])


# -- NLU models -----------------------------------------------------------------------------


def list_models(session: Session, ctx: RequestContext) -> list[NluModel]:
    stmt = scoped(select(NluModel), NluModel, ctx).order_by(NluModel.version.desc())
    return list(session.execute(stmt).scalars())


def get_model(session: Session, ctx: RequestContext, version: int) -> NluModel:
    stmt = scoped(select(NluModel), NluModel, ctx).where(NluModel.version == version)
    model = session.execute(stmt).scalar_one_or_none()
    if model is None:
        raise NotFound("NLU model version not found", details={"version": version})
    return model


def active_model(session: Session, ctx: RequestContext) -> NluModel | None:
    stmt = scoped(select(NluModel), NluModel, ctx).where(NluModel.status == ModelStatus.ACTIVE)
    return session.execute(stmt.order_by(NluModel.version.desc()).limit(1)).scalar_one_or_none()


def active_version(session: Session, ctx: RequestContext) -> tuple[int, str] | None:
    """The company's promoted model as (version, fingerprint): one small query per turn."""
    stmt = scoped(select(NluModel.version, NluModel.fingerprint), NluModel, ctx).where(
        NluModel.status == ModelStatus.ACTIVE
    )
    row = session.execute(stmt.order_by(NluModel.version.desc()).limit(1)).one_or_none()
    return (int(row[0]), str(row[1])) if row is not None else None


def active_version_columns() -> tuple[Any, Any]:
    """``active_version`` as two scalar subqueries for any company (``scoped_later``), to be
    read in a statement every turn runs anyway (``understanding.signature_statement``)."""
    newest = (
        scoped_later(select(NluModel.version), NluModel)
        .where(NluModel.status == ModelStatus.ACTIVE)
        .order_by(NluModel.version.desc())
        .limit(1)
    )
    fingerprint = newest.with_only_columns(NluModel.fingerprint)
    return newest.scalar_subquery(), fingerprint.scalar_subquery()


def active_of(version: Any, fingerprint: Any) -> tuple[int, str] | None:
    """``active_version``'s answer from the two columns of ``active_version_columns``."""
    return (int(version), str(fingerprint)) if version is not None else None


def next_model_version(session: Session, ctx: RequestContext) -> int:
    stmt = scoped(select(func.max(NluModel.version)), NluModel, ctx)
    return int(session.execute(stmt).scalar_one() or 0) + 1


# -- figures for /metrics (every company: an operator's view) ---------------------------------


def actions_by_status(session: Session) -> dict[str, int]:
    stmt = select(AiAction.status, func.count()).group_by(AiAction.status)
    return {str(status): int(n) for status, n in session.execute(stmt).all()}


def feedback_counts(session: Session) -> dict[str, int]:
    """Thumbs up and down over every company's answers."""
    stmt = (
        select(MessageFeedback.thumbs, func.count())
        .where(MessageFeedback.thumbs.is_not(None))
        .group_by(MessageFeedback.thumbs)
    )
    counts = {"up": 0, "down": 0}
    for thumbs, n in session.execute(stmt).all():
        counts["up" if (thumbs or 0) > 0 else "down"] += int(n)
    return counts


def examples_by_status(session: Session) -> dict[str, int]:
    stmt = select(TrainingExample.status, func.count()).group_by(TrainingExample.status)
    return {str(status): int(n) for status, n in session.execute(stmt).all()}
