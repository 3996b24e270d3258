"""The assistant's purgeable stores: conversations and messages, and what learning kept of
them (telemetry events, feedback, training examples, exported datasets). See governance purge.

Messages that said a purged memory (the "remember ..." request and the reply repeating it)
are blanked even when whole conversations are not asked for: otherwise the chat history
would keep what the purge removed. With ``conversations`` the selected conversations go
whole, their messages with them; confirmations that pointed at them keep their record but
lose the link. The learning store then drops the events, examples and exported dataset
versions that hold a purged text (a dataset's content is hashed, so a version holding purged
text is deleted, not edited; the next export makes a new one).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, Text, cast, delete, or_, select, update
from sqlalchemy.orm import Session

from companion.assistant.actions.models import AiAction
from companion.assistant.learning.models import (
    Dataset,
    MessageFeedback,
    TelemetryEvent,
    TrainingExample,
)
from companion.assistant.models import Conversation, Message
from companion.governance.memory.purge import PurgeScope, register_store
from companion.tenancy.context import RequestContext, in_company, scoped

REMOVED = "[removed by a purge]"
# Texts of deleted messages handed on to the learning store (the newest first).
MAX_TEXTS = 500


class ConversationStore:
    """Conversations, their messages and their titles."""

    name = "conversations"

    def purge(self, session: Session, ctx: RequestContext, scope: PurgeScope) -> int:
        removed = self._blank_memory_messages(session, ctx, scope)
        if scope.request.conversations:
            removed += self._delete_conversations(session, ctx, scope)
        return removed

    def _conversations(self, ctx: RequestContext, scope: PurgeScope) -> Select[str]:
        stmt = scoped(select(Conversation.id), Conversation, ctx)
        if scope.request.user_id is not None:
            stmt = stmt.where(Conversation.user_id == scope.request.user_id)
        if scope.request.before is not None:
            stmt = stmt.where(Conversation.created_at < scope.request.before)
        return stmt

    def _blank_memory_messages(
        self, session: Session, ctx: RequestContext, scope: PurgeScope
    ) -> int:
        texts = [t for t in scope.texts if t.strip()]
        if not texts:
            return 0
        said = or_(*(Message.content.contains(t, autoescape=True) for t in texts))
        where = [said]
        if scope.conversation_ids:
            where.append(
                Message.conversation_id.in_(scope.conversation_ids) & (Message.intent == "remember")
            )
        rows = list(
            session.execute(
                scoped(select(Message), Message, ctx).where(
                    Message.conversation_id.in_(self._conversations(ctx, scope)), or_(*where)
                )
            ).scalars()
        )
        scope.message_ids.update(m.id for m in rows)
        for message in rows:
            conversation = session.get(Conversation, message.conversation_id)
            if (
                conversation is not None
                and conversation.title
                and message.content.startswith(conversation.title)
            ):
                conversation.title = REMOVED
            message.content, message.entities, message.data = REMOVED, None, None
        session.flush()
        return len(rows)

    def _delete_conversations(
        self, session: Session, ctx: RequestContext, scope: PurgeScope
    ) -> int:
        ids = list(session.execute(self._conversations(ctx, scope)).scalars())
        if not ids:
            return 0
        said = session.execute(
            scoped(select(Message.id, Message.content), Message, ctx)
            .where(Message.conversation_id.in_(ids))
            .order_by(Message.created_at.desc())
        ).all()
        scope.message_ids.update(str(row[0]) for row in said)
        scope.texts.extend(str(row[1]) for row in said[:MAX_TEXTS] if row[1] != REMOVED)
        message_ids = [str(row[0]) for row in said]
        if message_ids:
            session.execute(
                delete(MessageFeedback).where(
                    in_company(MessageFeedback, ctx), MessageFeedback.message_id.in_(message_ids)
                )
            )
        session.execute(
            update(AiAction)
            .where(in_company(AiAction, ctx), AiAction.conversation_id.in_(ids))
            .values(conversation_id=None)
        )
        messages = session.execute(
            delete(Message).where(in_company(Message, ctx), Message.conversation_id.in_(ids))
        )
        session.execute(
            delete(Conversation).where(in_company(Conversation, ctx), Conversation.id.in_(ids))
        )
        session.flush()
        return len(ids) + int(getattr(messages, "rowcount", 0) or 0)


class LearningStore:
    """What the learning loop kept: telemetry events, feedback, training examples, datasets."""

    name = "learning"

    def purge(self, session: Session, ctx: RequestContext, scope: PurgeScope) -> int:
        texts = [t for t in scope.texts if t.strip()][:MAX_TEXTS]
        removed = 0
        removed += self._delete(
            session,
            TelemetryEvent,
            ctx,
            self._events_of_user(scope)
            + self._holding(TelemetryEvent.data, texts)
            + self._of_messages(TelemetryEvent.message_id, scope),
        )
        removed += self._delete(
            session,
            MessageFeedback,
            ctx,
            self._of_messages(MessageFeedback.message_id, scope),
        )
        removed += self._delete(
            session,
            TrainingExample,
            ctx,
            self._holding(TrainingExample.text, texts)
            + self._holding(TrainingExample.answer, texts)
            + self._of_messages(TrainingExample.message_id, scope),
        )
        removed += self._delete(
            session,
            Dataset,
            ctx,
            self._holding(Dataset.chat_jsonl, texts) + self._holding(Dataset.rasa_yaml, texts),
        )
        session.flush()
        return removed

    @staticmethod
    def _events_of_user(scope: PurgeScope) -> list[Any]:
        """A user's own events go with their conversations (the right to be forgotten)."""
        request = scope.request
        if request.user_id is None or not request.conversations:
            return []
        condition = TelemetryEvent.user_id == request.user_id
        if request.before is not None:
            condition = condition & (TelemetryEvent.at < request.before)
        return [condition]

    @staticmethod
    def _holding(column: Any, texts: list[str]) -> list[Any]:
        return [cast(column, Text).contains(t, autoescape=True) for t in texts]

    @staticmethod
    def _of_messages(column: Any, scope: PurgeScope) -> list[Any]:
        return [column.in_(sorted(scope.message_ids))] if scope.message_ids else []

    @staticmethod
    def _delete(session: Session, model: Any, ctx: RequestContext, conditions: list[Any]) -> int:
        if not conditions:
            return 0
        result = session.execute(delete(model).where(in_company(model, ctx), or_(*conditions)))
        return int(getattr(result, "rowcount", 0) or 0)


register_store(ConversationStore())
register_store(LearningStore())
