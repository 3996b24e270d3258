"""The chat side of actions: gather the parameters over turns, propose, confirm or cancel.

Parameters come only from the user's own turns (text and validated entities), never from
documents or remembered answers. The conversation remembers a draft as its state's
``action`` (``assistant.state.ActionDraft``: name, params, awaiting, token); the
confirmation itself is in the database and is the one source of truth for what became of
it: whatever confirmed, cancelled or expired the token (the API, another worker, the sweep)
ends the draft too, so a "yes" after that says what happened and never proposes or executes
a copy unasked.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from typing import Any

from sqlalchemy.orm import Session

from companion.assistant.actions import repository as repo
from companion.assistant.actions import service
from companion.assistant.actions.base import action_for, all_actions
from companion.assistant.actions.models import OPEN_STATUSES, ActionStatus, AiAction
from companion.assistant.nlu.entities.numbers import WORD_NUMBERS
from companion.assistant.nlu.guard import is_action_verb
from companion.assistant.skills.base import Answer, Turn, register
from companion.assistant.state import ActionDraft, AnswerMeta, ConversationState, remember_action
from companion.config import ActionSettings
from companion.errors import CompanionError, PermissionDenied, RateLimited
from companion.kit.db import TransactionMemo, utcnow
from companion.kit.jsonable import jsonable
from companion.tenancy.context import RequestContext

# Every registered action (``actions.handlers``) is an intent this skill answers.
ACTION_INTENTS: tuple[str, ...] = tuple(all_actions())
CONFIDENT = 0.6
# How a new request for each action is offered back when the reading is unsure; each label,
# sent as the next message (the widget's choice button), reads as that action.
ACTION_LABELS = {
    "approve_purchase_order": "Approve a purchase order",
    "reject_purchase_order": "Reject a purchase order",
    "create_sales_order": "Create a sales order",
    "create_customer": "Add a new customer",
    "post_ar_invoice": "Post a customer invoice",
    "record_payment": "Record a payment",
    "create_purchase_order": "Create a purchase order",
    "adjust_inventory": "Adjust stock",
    "void_document": "Void a document",
    "commit_import": "Commit a data import",
}
# A bare refusal ("no", "cancel it", "stop") cancels; "no, the other warehouse" corrects.
_BARE_CANCEL = re.compile(
    r"^\s*(no+|nope|cancel|stop|abort|don'?t|do not|never ?mind|forget it)"
    r"(\s+(it|that|this|thanks|thank you|please|the (action|order|request)))*\s*[.!]*\s*$",
    re.IGNORECASE,
)
_CORRECTION = re.compile(
    r"^\s*(no\b[,.]?\s+\S|make it\b|change\b|actually\b|instead\b|rather\b|i meant\b|"
    r"not\b.+\bbut\b|use\b|with\b|at\b|only\b|add\b|also\b|and\b)",
    re.IGNORECASE,
)
# A correction of the action in progress ("make it 4 Ceiling Fan 56in", "change X to 4",
# "no, the other warehouse", "6 instead"): it keeps that action even when its words alone
# read as another one ("change X to 4" sounds like a stock adjustment).
_KEEPS_ACTION = re.compile(
    r"^\s*(?:(?:oh|ok|okay|sorry|wait|please|hmm)\b[,.]?\s*)*"
    r"(?:no\b[,.]?\s+\S|make\s+it\b|change\b(?!\s+of\b)|actually\b|i\s+meant\b|rather\b|instead\b)"
    r"|\binstead\b|\bthe\s+other\b",
    re.IGNORECASE,
)
# While a question is open, only these words cancel ("remove 3" answers "By how many?").
_EXPLICIT_CANCEL = re.compile(
    r"\b(?:cancel|stop|abort|never\s*mind|forget\s+(?:it|that|about\s+it))\b", re.IGNORECASE
)
_NUMBER = re.compile(
    r"\d|\b(?:" + "|".join(sorted(WORD_NUMBERS, key=len, reverse=True)) + r")\b", re.IGNORECASE
)
# Slots whose answer is a number: a number in the reply answers them.
_NUMBER_SLOTS = frozenset({"quantity", "amount", "sign"})
# "How do I create an invoice?" asks for the help pages, not for an invoice.
_HOW_TO = re.compile(
    r"^\s*(?:(?:and|so|but|ok|okay|please|hi|hello)\b[,.]?\s*)*(?:"
    r"how\s+(?:do|can|could|should|would|does|will|must)\s+(?:i|we|you|one|someone|a\s+user|users)\b"
    r"|how\s+to\b|how\s+is\b.*\b(?:done|created|posted|recorded|approved|raised|made)\b"
    r"|what\s+(?:are|is)\s+the\s+(?:steps|process|procedure|way)\b|(?:the\s+)?steps\s+(?:to|for)\b"
    r"|(?:can\s+you\s+|could\s+you\s+|please\s+)?(?:show|tell|explain\s+to|teach)\s+me\s+how\b"
    r"|i\s+(?:want|need|would\s+like|'?d\s+like)\s+to\s+(?:know|learn|understand|see)\s+how\b"
    r"|explain\s+how\b|where\s+do\s+i\s+go\s+to\b)"
    r"(?!\s+(?:much|many|far|long|often|old|big)\b)",  # "show me how much we owe" is a figure
    re.IGNORECASE,
)


# What makes a weakly read request a real one: a document, a figure, a named party. A product
# name alone is not ("DROP TABLE ..." finds the Table Fan).
_STRONG_ENTITIES = frozenset({"document_ref", "amount", "quantity", "customer", "supplier"})


def _unsure_request(turn: Turn) -> bool:
    """A new request read as an action with little confidence and nothing the action uses.

    "DROP TABLE invoices; --" reads, weakly, as posting an invoice: asking which invoice to
    post would answer a request nobody made. Such a message is asked about instead; a
    document number, an amount, a quantity or a named party makes the request a real one.
    """
    return turn.confidence < CONFIDENT and not set(turn.entities) & _STRONG_ENTITIES


def _did_you_mean(intent: str) -> Answer:
    label = ACTION_LABELS.get(intent, intent.replace("_", " ").capitalize())
    return Answer(
        text=f"I'm not sure what you'd like me to do. Did you mean “{label.lower()}”? Choose "
        "it below, or say what you want in other words (I change nothing without your "
        "confirmation).",
        skill="clarify",
        choices=[label, "What can you do?"],
        remember=remember_action(None),
    )


def asks_how_to(text: str, intent: str) -> bool:
    """Whether the message asks how to do an action rather than asking for it done."""
    return intent in ACTION_INTENTS and bool(_HOW_TO.match(text))


def claims(
    session: Session,
    ctx: RequestContext,
    conversation_id: str | None,
    state: ConversationState,
    *,
    intent: str,
    confidence: float,
    entities: dict[str, Any],
    text: str,
) -> bool:
    """Whether this turn belongs to the actions skill rather than the intent's own skill."""
    if conversation_id:
        _OPEN_ACTION.clear(session)  # an earlier turn's reading is never this one's
    if intent in ACTION_INTENTS:
        return True
    draft = state.action
    has_open = bool(conversation_id) and (
        _open_action(session, ctx, str(conversation_id), text, keep=True) is not None
    )
    if not has_open and draft is None:
        return False
    if intent in ("confirm", "cancel"):
        return True
    if not has_open and draft is not None and draft.token:
        return False  # its proposal was decided elsewhere: only "yes"/"no" still refer to it
    if _CORRECTION.match(text) or _KEEPS_ACTION.search(text):
        return True
    if draft is not None:
        awaiting = draft.awaiting or ""
        offered = [c.lower() for c in draft.choices or ()]
        if awaiting and (awaiting in entities or text.strip().lower() in offered):
            return True
        if confidence < CONFIDENT and (entities or awaiting):
            return True
        if intent == "out_of_scope" and draft.free_text and not entities.get("document_ref"):
            return True  # "entered twice by mistake" to "Why should it be voided?"
    return False


@register(*ACTION_INTENTS)
class ActionSkill:
    name = "action"
    writes = True  # proposals, confirmations and cancels: the turn is one write transaction

    def handle(self, turn: Turn) -> Answer:
        """Propose, continue, confirm or cancel the conversation's action."""
        state = ConversationState.from_json(turn.state)
        draft = state.action
        pending = (
            _open_action(turn.session, turn.ctx, turn.conversation_id, turn.text)
            if turn.conversation_id
            else None
        )
        settled = _settled_elsewhere(turn, draft, pending)
        if settled is not None:
            if turn.intent in ACTION_INTENTS and not _KEEPS_ACTION.search(turn.text):
                draft = None  # a new request: the finished draft has nothing more to say
            else:
                return _settled_answer(turn, settled)
        if pending is not None and turn.intent == "confirm":
            return self._confirm(turn, pending)
        if turn.intent == "cancel" and _cancels(turn.text, draft, pending):
            return self._cancel(turn, pending)
        current = draft is not None or pending is not None
        continues = current and (
            bool(_KEEPS_ACTION.search(turn.text))
            or _answers_free_text(draft, turn.entities, turn.text, turn.confidence)
        )
        if turn.intent in ACTION_INTENTS and not continues:
            if not current and _unsure_request(turn):
                return _did_you_mean(turn.intent)
            name = turn.intent
        elif draft is not None:
            name = draft.name
        elif pending is not None:
            name = pending.action
        else:  # confirm/cancel with nothing open is routed elsewhere; be safe anyway
            return Answer(text="There's nothing waiting for your confirmation.", skill="dialogue")
        answer = self._propose(turn, state, name, draft, pending)
        if turn.intent == "confirm" and pending is None and answer.pending is None:
            # "yes" while a question is open (say, after a correction cancelled the proposal).
            answer.text = f"There's nothing to confirm yet. {answer.text}"
        return answer

    def _propose(
        self,
        turn: Turn,
        state: ConversationState,
        name: str,
        draft: ActionDraft | None,
        pending: AiAction | None,
    ) -> Answer:
        session, ctx = turn.session, turn.ctx
        if pending is not None and pending.action != name:
            _supersede(turn, pending)  # the user moved on to another action
            pending = None
        handler = action_for(name)
        what = name.replace("_", " ")
        if handler is None:
            return Answer(
                text=f"I understood that you want to {what}, but I can't do that from chat "
                "yet. Please do it in the ERP itself.",
                skill=self.name,
                remember=remember_action(None),
            )
        try:
            rule = service.check_allowed(session, ctx, handler)
        except service.ActionDisabled as exc:
            return Answer(text=exc.message, skill=self.name, remember=remember_action(None))
        except PermissionDenied as exc:
            return Answer(
                text=_sentence(exc.message), skill="denied", remember=remember_action(None)
            )
        base, fresh = self._base_params(name, draft, pending)
        if fresh and state.intent:
            # What was asked just before shapes a new action: an order raised after "which
            # items are below reorder level?" takes the reorder quantities.
            base["previous_intent"] = state.intent
        params = handler.gather(session, ctx, dict(base), turn.entities, turn.text, turn.today)
        if pending is not None and jsonable(params) != jsonable(base):
            # The draft changed: the proposal on screen no longer says what the user wants,
            # so a "yes" must not execute it, even while we ask about the change.
            _supersede(turn, pending)
            pending = None
        ask = handler.missing(session, ctx, params)
        if ask is not None:
            return Answer(
                text=ask.question,
                skill=self.name,
                choices=ask.choices,
                remember=remember_action(
                    ActionDraft(
                        name,
                        jsonable(params),
                        awaiting=ask.slot,
                        free_text=ask.free_text,
                        choices=tuple(ask.choices) if ask.choices is not None else None,
                    )
                ),
                extra=_outcome(name, {"status": "asking", "slot": ask.slot}),
            )
        drafted = ActionDraft(name, jsonable(params))
        keep = remember_action(drafted)
        try:
            row = service.propose(
                session,
                ctx,
                handler,
                params,
                now=_now(turn),
                settings=_settings(turn),
                conversation_id=turn.conversation_id,
                message_id=turn.message_id,
                rule=rule,
            )
        except RateLimited as exc:
            return Answer(
                text=exc.message, skill=self.name, remember=keep, extra=_failed(name, exc)
            )
        except PermissionDenied as exc:
            return Answer(
                text=_sentence(exc.message), skill="denied", remember=keep, extra=_failed(name, exc)
            )
        except CompanionError as exc:
            return Answer(
                text=f"I can't {what}: {exc.message}",
                skill=self.name,
                remember=keep,
                extra=_failed(name, exc),
            )
        if pending is not None and pending.token != row.token:
            # One open proposal per conversation, so "yes" is never ambiguous.
            _supersede(turn, pending)
        return Answer(
            text=f"{row.summary}. Shall I go ahead? Say “yes” to confirm or “no” to cancel "
            f"(this expires at {row.expires_at:%H:%M} UTC).",
            skill=self.name,
            remember=remember_action(dataclasses.replace(drafted, token=row.token)),
            pending={
                "token": row.token,
                "action": row.action,
                "summary": row.summary,
                "expires_at": row.expires_at,
                "preview": row.preview,
            },
            extra=_outcome(name, {"status": row.status, "token": row.token}),
        )

    def _base_params(
        self, name: str, draft: ActionDraft | None, pending: AiAction | None
    ) -> tuple[dict[str, Any], bool]:
        """What earlier turns gave for the same action, and whether this starts a new draft."""
        if draft is not None and draft.name == name:
            return dict(draft.params), False
        if pending is not None and pending.action == name:
            return dict(pending.params), False
        return {}, True

    def _confirm(self, turn: Turn, pending: AiAction) -> Answer:
        """Win the confirmation now; its action runs in the answer's ``finish``.

        The turn builds its context between the two, so a stock level or the audit chain's
        head the action locks is held from the action to the commit only for the writes.
        """
        session, ctx = turn.session, turn.ctx
        try:
            claimed = service.claim_confirmation(
                session,
                ctx,
                pending.token,
                now=_now(turn),
                settings=_settings(turn),
                message_id=turn.message_id,
                row=pending,
            )
        except service.ActionExpired:
            repo.claim(session, ctx, pending.token, pending.status, status="expired")
            return _settled_answer(turn, _reread(turn, pending))
        except service.AlreadyDecided:
            # Confirmed, cancelled or expired elsewhere while this turn ran (the API, another
            # worker, another "yes"): say what became of it; never propose it again unasked.
            return _settled_answer(turn, _reread(turn, pending))
        except service.ExecutionFailed as exc:
            return Answer(
                text=f"I couldn't do it: {exc.message.rstrip('.')}. Nothing was changed.",
                skill=self.name,
                remember=remember_action(None),
                extra=_failed(pending.action, exc),
            )
        except PermissionDenied as exc:
            return Answer(
                text=_sentence(exc.message), skill="denied", extra=_failed(pending.action, exc)
            )
        except CompanionError as exc:
            return Answer(text=exc.message, skill=self.name, extra=_failed(pending.action, exc))
        if isinstance(claimed, service.Confirmed):  # a first approval: nothing runs yet
            return self._confirmed(claimed)
        return Answer(
            text="",
            skill=self.name,
            remember=remember_action(None),
            finish=lambda: self._execute(turn, claimed),
        )

    def _execute(self, turn: Turn, claimed: service.Claimed) -> Answer:
        """Run the claimed action; what it did, or why the ERP refused it."""
        try:
            confirmed = service.execute_claimed(turn.session, turn.ctx, claimed)
        except service.ExecutionFailed as exc:
            return Answer(
                text=f"I couldn't do it: {exc.message.rstrip('.')}. Nothing was changed.",
                skill=self.name,
                remember=remember_action(None),
                extra=_failed(claimed.action, exc),
            )
        return self._confirmed(confirmed)

    def _confirmed(self, confirmed: service.Confirmed) -> Answer:
        row = confirmed.action
        return Answer(
            text=service.describe(confirmed),
            skill=self.name,
            remember=remember_action(None),
            extra=_outcome(
                row.action, {"status": row.status, "token": row.token, **(row.result or {})}
            ),
        )

    def _cancel(self, turn: Turn, pending: AiAction | None) -> Answer:
        if pending is None:
            return Answer(
                text="OK, I've dropped that; nothing was changed.",
                skill=self.name,
                remember=remember_action(None),
            )
        try:
            row = service.cancel(turn.session, turn.ctx, pending.token, now=_now(turn))
        except service.ActionExpired:
            return _settled_answer(turn, _reread(turn, pending))
        except service.AlreadyDecided:
            return _settled_answer(turn, _reread(turn, pending))
        except CompanionError as exc:
            return Answer(text=exc.message, skill=self.name, remember=remember_action(None))
        return Answer(
            text="Cancelled — nothing was changed.",
            skill=self.name,
            remember=remember_action(None),
            extra=_outcome(
                row.action, {"status": ActionStatus.CANCELLED.value, "token": row.token}
            ),
        )


def _cancels(text: str, draft: ActionDraft | None, pending: AiAction | None) -> bool:
    """Whether a message the NLU read as "cancel" really drops the action.

    "no, the other warehouse" corrects a proposal; while a question is open, a reply that
    answers it ("remove 3" to "By how many units?", or one of the offered choices) is an
    answer unless it says an explicit cancel word.
    """
    if pending is not None:
        return bool(_BARE_CANCEL.match(text))
    if draft is None or not draft.awaiting:
        return True
    if _BARE_CANCEL.match(text) or _EXPLICIT_CANCEL.search(text):
        return True
    answers = (
        text.strip().lower() in draft.offered()
        or (draft.awaiting in _NUMBER_SLOTS and bool(_NUMBER.search(text)))
        or bool(_KEEPS_ACTION.search(text))
    )
    return not answers


def _answers_free_text(
    draft: ActionDraft | None, entities: dict[str, Any], text: str, confidence: float = 1.0
) -> bool:
    """Whether the message is the reply to the draft's open free-text question.

    A reply that starts with a verb of doing is a new request only when it reads as one
    with confidence: "entered twice by mistake" (a reason to void) reads, weakly, as a stock
    adjustment.
    """
    if draft is None or not draft.awaiting or not draft.free_text:
        return False
    if entities.get("document_ref"):
        return False
    words = re.findall(r"[^\W\d_]+", text.lower())
    return not (words and is_action_verb(words[0]) and confidence >= CONFIDENT)


def _settled_elsewhere(
    turn: Turn, draft: ActionDraft | None, pending: AiAction | None
) -> AiAction | None:
    """The draft's confirmation if it was decided (confirmed, cancelled, expired) meanwhile."""
    token = draft.token if draft is not None and draft.token else ""
    if not token or (pending is not None and pending.token == token):
        return None
    row = repo.get_action(turn.session, turn.ctx, token)
    if row is None or service.status_now(row, _now(turn)) in OPEN_STATUSES:
        return None
    return row


def _settled_answer(turn: Turn, row: AiAction) -> Answer:
    """What became of a confirmation, in words; offers a fresh proposal where nothing was done.

    A cancelled or expired action is proposed again only if the user says so: the draft is
    kept without its token, so the next "yes" asks for a new preview and another "yes".
    """
    what = row.action.replace("_", " ")
    status = service.status_now(row, _now(turn))
    result = row.result or {}
    extra = _outcome(row.action, {"status": status, "token": row.token, **result})
    if status == ActionStatus.EXECUTED:
        done = str(result.get("message") or "").strip()
        ref = result.get("document_ref")
        text = f"That {what} was already confirmed and carried out"
        text += f": {_sentence(done)}" if done else (f" ({ref})." if ref else ".")
        text += " I haven't done it again."
        return Answer(text=text, skill="action", remember=remember_action(None), extra=extra)
    if status == ActionStatus.FAILED:
        error = str((result.get("error") or {}).get("message") or "").strip()
        text = f"That {what} could not be carried out when it was confirmed"
        text += f" ({error.rstrip('.')})" if error else ""
        return Answer(
            text=f"{text}; nothing was changed.",
            skill="action",
            remember=remember_action(None),
            extra=extra,
        )
    if status == ActionStatus.EXPIRED:
        text = f"That {what} expired at {row.expires_at:%H:%M} UTC, so nothing was done."
    else:
        text = f"That {what} was cancelled, so nothing was done."
    if turn.intent == "cancel":
        return Answer(text=text, skill="action", remember=remember_action(None), extra=extra)
    again = ActionDraft(row.action, dict(row.params), reoffer=True)
    return Answer(
        text=f"{text} Shall I propose it again?",
        skill="action",
        remember=remember_action(again),
        extra=extra,
    )


# The open confirmation ``claims`` read (None: there is none), for ``handle`` in the same turn.
_OPEN_ACTION: TransactionMemo[AiAction | None] = TransactionMemo("companion_open_action")


def _open_action(
    session: Session, ctx: RequestContext, conversation_id: str, text: str, *, keep: bool = False
) -> AiAction | None:
    """The caller's open confirmation in the conversation, read once per turn.

    ``claims`` reads it and keeps the reading (``keep``); ``handle`` takes it when it is of
    the same message in the same transaction, else reads. On SQLite the turn's write phase
    begins a new transaction, so ``handle`` reads it again there, under the write lock. What
    another worker changes meanwhile on PostgreSQL is caught where it matters: a claim is a
    conditional UPDATE, and its loser says what the winner did.
    """
    key = (ctx.company_id, ctx.user_id, conversation_id, text)
    kept = _OPEN_ACTION.take(session, key)
    if not keep and kept is not None:
        return kept.value
    row = repo.open_in_conversation(session, ctx, conversation_id)
    if keep:
        _OPEN_ACTION.put(session, key, row)
    return row


def _reread(turn: Turn, row: AiAction) -> AiAction:
    return repo.get_action(turn.session, turn.ctx, row.token) or row


def _supersede(turn: Turn, pending: AiAction) -> None:
    """Cancel an open proposal the conversation has moved past (reason: superseded)."""
    repo.claim(
        turn.session,
        turn.ctx,
        pending.token,
        pending.status,
        status=ActionStatus.CANCELLED.value,
        result={"reason": "superseded"},
    )


def _sentence(text: str) -> str:
    return text if text.endswith((".", "!", "?")) else f"{text}."


def _failed(action: str, exc: CompanionError) -> dict[str, Any]:
    return _outcome(action, {"status": "refused", **exc.to_dict()})


def _outcome(action: str, result: dict[str, Any]) -> dict[str, Any]:
    """The ``extra`` of an answer about ``action``: recorded on the reply message."""
    return AnswerMeta(action_type=action, action_result=result).to_extra()


def _now(turn: Turn) -> dt.datetime:
    return turn.now or utcnow()


def _settings(turn: Turn) -> ActionSettings:
    return turn.actions or ActionSettings()
