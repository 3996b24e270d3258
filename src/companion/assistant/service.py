"""One chat turn: context -> understand -> route (``assistant.routing``) -> answer -> record.

Knows nothing about HTTP: the web router and ``companion ask`` both call ``Assistant.turn``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy.orm import Session

from companion.assistant import (
    adhoc,
    choices,
    companies,
    documents_or_data,
    expense_accounts,
    followup,
    phases,
    repository,
    routing,
)
from companion.assistant import context as turn_context
from companion.assistant import tools as tool_choice
from companion.assistant.learning import telemetry as learning_telemetry
from companion.assistant.memory import recall
from companion.assistant.models import Conversation, new_id
from companion.assistant.nlu.entities import extract_entities
from companion.assistant.nlu.entities.master import MasterData
from companion.assistant.nlu.guard import is_action_verb
from companion.assistant.progress import Progress, report
from companion.assistant.queries import registry as queries
from companion.assistant.schemas import (
    ChatRequest,
    ChatResponse,
    ConversationDetail,
    ConversationOut,
    MessageOut,
    PendingConfirmation,
    ResponseContext,
    Source,
    Usage,
)
from companion.assistant.skills import actions as action_skill
from companion.assistant.skills.base import Answer, Skill, Turn, skill_for
from companion.assistant.skills.knowledge import (
    answer_from_documents,
    documents_answer,
    documents_found,
)
from companion.assistant.state import AnswerMeta, ConversationState
from companion.audit import service as audit
from companion.config import ActionSettings
from companion.errors import PayloadTooLarge, ValidationFailed
from companion.governance.memory import service as memory_policy
from companion.kit.clock import Clock
from companion.kit.db import begin_reading, begin_writing, is_reading, utcnow
from companion.kit.jsonable import jsonable
from companion.llm.admission import external_providers
from companion.tenancy.context import RequestContext

if TYPE_CHECKING:
    from companion.assistant.usage import UsageMeter
    from companion.governance.memory.service import TextEmbedder
    from companion.knowledge.retrieval import Retriever
    from companion.llm.service import LLMService


class Understanding(Protocol):
    intent: str
    confidence: float
    entities: dict[str, Any]


class Understander(Protocol):
    """The NLU port: text in, intent and entities out (resolved in the caller's company)."""

    def understand(self, session: Session, ctx: RequestContext, text: str, today: Any) -> Any: ...

    def master(self, session: Session, ctx: RequestContext) -> MasterData:
        """The caller's company's names (customers, products, ...) to resolve entities against."""
        ...


@dataclasses.dataclass(frozen=True)
class _Reading:
    """What a turn read before answering: its conversation, its meaning, the skill to answer."""

    conversation: Conversation
    new: bool  # the conversation starts with this turn (stored when the turn writes)
    seen: dt.datetime | None  # a continuing conversation's ``updated_at`` when it was read
    route: routing.Route
    skill: Skill
    turn: Turn
    reply_id: str  # the answer's message id


@dataclasses.dataclass(frozen=True)
class _Answering:
    """The ways one read turn can be answered (``routing.Answerer``)."""

    assistant: Assistant
    read: _Reading

    def documents_or_data(self) -> tuple[Answer, str] | None:
        return self.assistant._documents_or_data(self.read.turn, self.read.skill)

    def choose_tool(self) -> tuple[Answer, followup.Resolved] | None:
        return self.assistant._choose_tool(self.read)

    def handle(self) -> Answer:
        return self.read.skill.handle(self.read.turn)


class Assistant:
    """The chat core; one per process, shared by every request."""

    def __init__(
        self,
        nlu: Understander,
        clock: Clock,
        *,
        max_message_chars: int = 4000,
        actions: ActionSettings | None = None,
        retriever: Callable[[], Retriever] | None = None,
        llm: Callable[[], LLMService] | None = None,
        tool_choice_below: float = 0.5,
        usage: UsageMeter | None = None,
        memory_embedder: Callable[[], TextEmbedder] | None = None,
    ) -> None:
        self._nlu = nlu
        self._clock = clock
        self._retriever = retriever
        self._llm = llm
        self._answering = routing.answering(tool_choice_below)
        self._max_chars = max_message_chars
        self._actions = actions or ActionSettings()
        self._data_intents = frozenset(queries.all_queries())
        self._usage = usage  # rate limits, budgets and metering (assistant.usage)
        # Memories are compared by the retriever's embedder unless one is given.
        if memory_embedder is None and retriever is not None:
            memory_embedder = lambda: retriever().embedder  # noqa: E731
        self._memory_embedder = memory_embedder

    @property
    def nlu(self) -> Understander:
        """The understanding port this assistant uses."""
        return self._nlu

    @property
    def memory_embedder(self) -> Callable[[], TextEmbedder] | None:
        """The embedder memories are compared with (None: by their words only)."""
        return self._memory_embedder

    @property
    def usage(self) -> UsageMeter | None:
        """The meter in front of every turn (None: turns are not limited or metered)."""
        return self._usage

    def prepare(self) -> None:
        """Build what every process builds on its first turn: the skills (imported on first
        use) and the data questions' vocabulary (read from the NLU's training data). The
        server's warm start calls it, so the first question doesn't pay for them."""
        skill_for("help")
        documents_or_data.ledger_words(self._data_intents)

    def turn(
        self,
        session: Session,
        ctx: RequestContext,
        request: ChatRequest,
        progress: Progress | None = None,
    ) -> ChatResponse:
        """One turn within the caller's rate limit and budgets, its model use metered.

        The turn reads first and takes the write lock only to record itself (or, for a turn
        that changes something, from the moment that is known: ``assistant.phases``).
        A company in compliance mode (governance.memory's policy) reaches no provider marked
        external during the turn: its chain skips them (the policy is read only when one is
        about to be used). Its audit entries are chained last (``audit.written_last``): the
        company's audit head is locked only from then to the commit.
        """
        begin_reading(session)

        def allowed() -> bool:
            # Not flushing: asking must not move the turn's writes earlier than they are.
            with session.no_autoflush:
                policy = memory_policy.policy_of(session, ctx.company_id)
            return policy.allows_external_providers()

        with external_providers(allowed), audit.written_last(session):
            if self._usage is None:
                return self._answer(session, ctx, request, progress)
            with self._usage.turn(session, ctx) as metered:
                response = self._answer(session, ctx, request, progress)
                return self._usage.finish(metered, response)

    def _answer(
        self,
        session: Session,
        ctx: RequestContext,
        request: ChatRequest,
        progress: Progress | None = None,
    ) -> ChatResponse:
        """Answer one message in a new or continuing conversation, and record both sides.

        ``progress`` (streamed turns) receives each step and the model's text as it is written.
        """
        started = time.perf_counter()
        text = self.validated(request.message)
        read = self._read(session, ctx, request, text, progress)
        if phases.answers_in_one_transaction(
            read.skill, claimed=read.route.claimed, remembering=read.route.remembering
        ) and self._begin_writing(session, ctx, read):
            # Another turn of the conversation was recorded since it was read: read it again.
            read = self._read(session, ctx, request, text, progress)
        answer, resolved = routing.answer(self._answering, _Answering(self, read), read.route)
        report(progress, "recording")
        latency_ms = round((time.perf_counter() - started) * 1000, 2)
        context = turn_context.build(
            session,
            ctx,
            text=text,
            now=self._clock.now(),
            module=request.context.module,
            page=request.context.page,
            embedder=self._memory_embedder,
        )
        if is_reading(session):  # answered by reading: now the short write transaction
            self._begin_writing(session, ctx, read, store=answer.finish is not None)
        if answer.finish is not None:
            # A confirmed action runs now, with everything but the turn's writes done: the
            # rows it locks stay locked only until the commit that follows them.
            finishing = time.perf_counter()
            answer = answer.finish()
            latency_ms = round(latency_ms + (time.perf_counter() - finishing) * 1000, 2)
        conversation = read.conversation
        meta = AnswerMeta.of(answer.extra)
        self._record(session, conversation, text, resolved, answer, latency_ms, read.reply_id)
        learning_telemetry.record_turn(
            session,
            ctx,
            message_id=read.reply_id,
            text=text,
            intent=resolved.intent,
            confidence=resolved.confidence,
            skill=answer.skill,
            latency_ms=latency_ms,
            fallback=resolved.intent == "out_of_scope" or meta.chose_tool == tool_choice.USE_CASE,
            suggestions=len(answer.choices or []),
            accepted=resolved.picked == "choice",
        )
        return ChatResponse(
            conversation_id=conversation.id,
            message_id=read.reply_id,
            message=answer.text,
            intent=resolved.intent,
            confidence=round(resolved.confidence, 4),
            entities=jsonable(resolved.entities),
            skill=answer.skill,
            data=answer.data,
            sources=[Source.model_validate(s) for s in answer.sources] if answer.sources else None,
            pending_confirmation=PendingConfirmation(**answer.pending) if answer.pending else None,
            choices=answer.choices,
            context=ResponseContext(**context.as_dict()),
            usage=Usage(latency_ms=latency_ms, llm=meta.llm),
        )

    def _read(
        self,
        session: Session,
        ctx: RequestContext,
        request: ChatRequest,
        text: str,
        progress: Progress | None,
    ) -> _Reading:
        """The conversation, what the message means and which skill answers it (reads only)."""
        if request.conversation_id:
            conversation = repository.get_conversation(
                session, ctx, request.conversation_id, for_update=True
            )
        else:  # stored when the turn writes (rows an action or a memory writes point at it)
            conversation = Conversation(
                id=new_id(),
                company_id=ctx.company_id,
                user_id=ctx.user_id,
                title=text[:200],
                state={},
            )
        state = ConversationState.from_json(conversation.state)
        today = self._clock.today()
        report(progress, "understanding")
        understood = self._nlu.understand(session, ctx, text, today)
        continuing = conversation.id if request.conversation_id else None
        route = routing.route(
            routing.Message(
                text=text,
                intent=understood.intent,
                confidence=float(understood.confidence),
                entities=dict(understood.entities),
                state=state,
                data_intents=self._data_intents,
                record=request.context.record,
                read_adhoc=lambda: self._read_adhoc(session, ctx, text, understood, state, today),
                recall=lambda entities: recall.resolve(
                    session, ctx, text, entities, self._clock.now()
                ),
                claims=lambda resolved: action_skill.claims(
                    session,
                    ctx,
                    continuing,
                    state,
                    intent=resolved.intent,
                    confidence=resolved.confidence,
                    entities=resolved.entities,
                    text=text,
                ),
                other_company=lambda entities: companies.other_company(
                    session, ctx, text, entities
                ),
            )
        )
        resolved = route.resolved
        reply_id = new_id()
        turn = Turn(
            session=session,
            ctx=ctx,
            text=text,
            intent=resolved.intent,
            confidence=resolved.confidence,
            entities=resolved.entities,
            today=today,
            state=dict(conversation.state or {}),
            module=request.context.module,
            now=self._clock.now(),
            conversation_id=conversation.id,
            message_id=reply_id,
            actions=self._actions,
            retriever=self._retriever,
            llm=self._llm,
            progress=progress,
            adhoc=route.adhoc,
            memory_embedder=self._memory_embedder,
        )
        return _Reading(
            conversation=conversation,
            new=not request.conversation_id,
            seen=None if not request.conversation_id else conversation.updated_at,
            route=route,
            skill=route.skill(),
            turn=turn,
            reply_id=reply_id,
        )

    def _begin_writing(
        self, session: Session, ctx: RequestContext, read: _Reading, *, store: bool = True
    ) -> bool:
        """Start the turn's write transaction; True when the conversation moved on since read.

        A new conversation is stored here, before anything that points at it; with ``store``
        False (nothing but the turn's own record is written) ``_record`` inserts it once, with
        its final state. A continuing one is locked again (SQLite: the write transaction is
        new, and another turn of the same conversation may have been recorded in between;
        PostgreSQL: still locked).
        """
        fresh = begin_writing(session)
        if read.new:
            if store and read.conversation not in session:
                session.add(read.conversation)
                session.flush()
            return False
        if not fresh:
            return False
        current = repository.get_conversation(session, ctx, read.conversation.id, for_update=True)
        return current.updated_at != read.seen

    def _read_adhoc(
        self,
        session: Session,
        ctx: RequestContext,
        text: str,
        understood: Any,
        state: ConversationState,
        today: Any,
    ) -> tuple[adhoc.Answerable, dict[str, Any]] | None:
        """The ad-hoc reading of the message (or of the offered question it picks), if any."""
        draft = state.action
        first = text.split(maxsplit=1)[0].lower() if text.strip() else ""
        requested = understood.intent in action_skill.ACTION_INTENTS and (
            is_action_verb(first) or not adhoc.asks_breakdown(text)
        )
        if (
            requested
            or (draft is not None and draft.awaiting)
            or understood.entities.get("document_ref")
        ):
            # A request to do something ("record a receipt ...", "X paid us BDT 500") or to
            # learn how ("how can I record a payment?"), the reply to an action's open
            # question, or a question about one document ("has INV-… been paid?") is not a
            # breakdown to compute; "receipts by item", read as an action, still is one.
            return None
        spent = expense_accounts.reading(session, ctx, text, dict(understood.entities), today)
        if spent is not None:  # "how much did we pay in salaries?": that expense account
            return spent, dict(understood.entities)
        picked = choices.pick(state, text, understood.intent)
        if picked is not None and picked.intent == adhoc.INTENT:
            text = str(picked.entities.get("text") or text)
        entities = dict(understood.entities)
        fy = ctx.fiscal_year_start_month
        args = (understood.intent, entities, state, today, fy)
        reading = adhoc.read(text, *args)
        # "When was the last time Zebra Foods bought anything?" read as no data question: its
        # trimmed entities lack the name the question turns on, so it is read again in full.
        trimmed = understood.intent not in self._data_intents
        if reading is None and not (trimmed and adhoc.asks_last_time(text)):
            return None
        # Entities of a message the NLU read as no data question were trimmed: read them all.
        if picked is not None or understood.intent not in self._data_intents:
            master = self._nlu.master(session, ctx)
            entities = extract_entities(
                text, today=today, fiscal_year_start_month=fy, master=master
            ).entities
            reading = adhoc.read(text, understood.intent, entities, state, today, fy)
        return (reading, entities) if reading is not None else None

    def _documents_or_data(self, turn: Turn, skill: Skill) -> tuple[Answer, str] | None:
        """The documents' answer (or both answers) to a ledger-sounding question about them.

        Only for messages read as data questions that have words of their own beyond the
        ledger's ("receipts for benefit claims"); see ``documents_or_data`` for the weighing.
        """
        if turn.intent not in self._data_intents and turn.intent != adhoc.INTENT:
            return None
        ledger = documents_or_data.ledger_words(self._data_intents)
        name, _ = turn_context.company_facts(turn.session, turn.ctx)
        own = documents_or_data.own_words(turn.ctx.company_slug, name or "")
        if not documents_or_data.subject_of(turn.text, ledger, turn.entities, own):
            return None  # "what's our cash balance?": nothing but the ledger's words
        found = documents_found(turn)
        if found is None:
            return None
        weighing = documents_or_data.weigh(turn.text, turn.entities, found[0], ledger, own)
        if weighing.verdict == "data":
            return None
        documents = documents_answer(turn, found[1])
        documents.extra["documents_or_data"] = weighing.verdict
        if weighing.verdict == "documents":
            return documents, "explain_policy"
        return documents_or_data.both(skill.handle(turn), documents), turn.intent

    def _choose_tool(self, read: _Reading) -> tuple[Answer, followup.Resolved] | None:
        """The answer of the tool a model picks for an unsure turn, and the reading it implies.

        Only tools the caller's roles may use are offered; the chosen one is handled by its
        usual skill, so the same permission checks and confirmation flow apply. Documents
        come first for out-of-scope messages: a policy question is not a tool call. A tool
        that writes (an action) is handled in the turn's write transaction, begun once the
        model has chosen it, with the conversation's state as it is then.
        """
        turn = read.turn
        llm = turn.language_model()
        company = turn.ctx.company_slug
        if llm is None or not llm.enabled(tool_choice.USE_CASE, company):
            return None
        if turn.intent == "out_of_scope" and answer_from_documents(turn) is not None:
            return None  # the out-of-scope skill answers from the documents
        allowed = [
            name for name, spec in tool_choice.tool_specs().items() if turn.ctx.can(spec.permission)
        ]
        report(turn.progress, "choosing_tool")
        choice = tool_choice.choose_tool(llm, company, turn.text, allowed, today=turn.today)
        if choice is None:
            return None
        skill = skill_for(choice.tool)
        if skill is None:  # pragma: no cover - every tool is a registered intent (tested)
            return None
        master = self._nlu.master(turn.session, turn.ctx)
        entities = tool_choice.entities_from_choice(choice, master)
        if phases.writes(skill) and is_reading(turn.session):
            self._begin_writing(turn.session, turn.ctx, read)
            turn = dataclasses.replace(turn, state=dict(read.conversation.state or {}))
        answer = skill.handle(dataclasses.replace(turn, intent=choice.tool, entities=entities))
        answer.extra["llm"] = {
            "use_case": tool_choice.USE_CASE,
            "tool": choice.tool,
            "arguments": jsonable(choice.arguments),
            "nlu_intent": turn.intent,
            "nlu_confidence": round(turn.confidence, 4),
            "answer": AnswerMeta.of(answer.extra).llm,  # what a model did for the answer itself
        }
        resolved = followup.Resolved(
            intent=choice.tool, confidence=turn.confidence, entities=entities, follow_up=False
        )
        return answer, resolved

    def validated(self, message: str) -> str:
        """The message stripped, or a 422 when empty and a 413 when over the limit."""
        text = message.strip()
        if not text:
            raise ValidationFailed("The message is empty", details={"field": "message"})
        if len(text) > self._max_chars:
            raise PayloadTooLarge(
                f"The message is longer than {self._max_chars} characters",
                details={"limit": self._max_chars, "length": len(text)},
            )
        return text

    def _record(
        self,
        session: Session,
        conversation: Conversation,
        text: str,
        resolved: followup.Resolved,
        answer: Answer,
        latency_ms: float,
        reply_id: str,
    ) -> None:
        # Only this method writes messages (their numbers: ``Conversation.last_seq``).
        meta = AnswerMeta.of(answer.extra)
        entities = jsonable(resolved.entities)
        # Small talk in between keeps the last question but withdraws an offer; an action
        # being drafted survives questions in between (``ConversationState.after``).
        before = ConversationState.from_json(conversation.state)
        if answer.remember is not None or before.offer is not None:
            conversation.state = jsonable(before.after(answer.remember).to_json())
        now = utcnow()
        conversation.updated_at = now
        if conversation not in session:  # begun by this turn, nothing else written: insert once
            conversation.created_at = now
        # The conversation's UPDATE (or INSERT) takes the two numbers, before the messages
        # that point at it.
        seq = repository.take_seqs(session, conversation, 2)
        # The user's message leaves the answer's columns unset (SQL NULL); the answer's JSON
        # columns are set even when None (JSON null), as they always were.
        user = {
            "id": new_id(),
            "company_id": conversation.company_id,
            "conversation_id": conversation.id,
            "seq": seq,
            "role": "user",
            "content": text,
            "intent": resolved.intent,
            "confidence": resolved.confidence,
            "entities": entities,
        }
        reply = user | {
            "id": reply_id,
            "seq": seq + 1,
            "role": "assistant",
            "content": answer.text,
            "skill": answer.skill,
            "data": jsonable(answer.data) if answer.data else None,
            "sources": answer.sources,
            "latency_ms": latency_ms,
            "action_type": meta.action_type,
            "action_result": jsonable(meta.action_result),
        }
        repository.add_messages(session, [user, reply])


def conversation_out(conversation: Conversation) -> ConversationOut:
    return ConversationOut(
        id=conversation.id,
        title=conversation.title,
        created_at=conversation.created_at,
        updated_at=conversation.updated_at,
    )


def conversation_detail(session: Session, conversation: Conversation) -> ConversationDetail:
    """A conversation with its messages in order."""
    return ConversationDetail(
        **conversation_out(conversation).model_dump(),
        messages=[
            MessageOut(
                id=m.id,
                role=m.role,
                content=m.content,
                intent=m.intent,
                confidence=m.confidence,
                entities=m.entities,
                skill=m.skill,
                data=m.data,
                sources=m.sources,
                latency_ms=m.latency_ms,
                rating=m.rating,
                created_at=m.created_at,
            )
            for m in repository.messages_of(session, conversation)
        ],
    )
