"""Propose, confirm and cancel AI actions: the two phases, executed exactly once.

Propose validates through the handler and stores a pending confirmation; nothing else is
written. Confirm re-validates, claims the row with a conditional UPDATE (so of two concurrent
confirms exactly one proceeds), executes the handler through the ERP services in a savepoint,
and stores the result with an audit entry marked ``via_ai``. A chat turn does it in two
steps, ``claim_confirmation`` and then ``execute_claimed``, and prepares what it needs to
answer and record itself in between: the rows the execution locks (a stock level) then stay
locked only while the turn writes, not while it builds its answer. The audit entries are
chained after everything else (``audit.written_last``, opened by the turn or by ``confirm``),
so the company's audit head is locked last and only for those writes and the commit.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from companion.assistant.actions import ratelimit
from companion.assistant.actions import repository as repo
from companion.assistant.actions.base import (
    ActionHandler,
    Outcome,
    Rechecked,
    RechecksByReading,
    action_for,
    dry_run,
)
from companion.assistant.actions.models import ActionStatus, AiAction
from companion.assistant.actions.params import check_params
from companion.assistant.actions.settings import ActionRule, rule_for
from companion.audit import service as audit
from companion.config import ActionSettings
from companion.errors import CompanionError, Conflict, InvalidState, NotFound, PermissionDenied
from companion.kit import telemetry
from companion.kit.jsonable import jsonable
from companion.tenancy.context import RequestContext

S = ActionStatus


class ActionDisabled(PermissionDenied):
    """The company turned this action off for the assistant."""

    code = "action_disabled"


class ActionExpired(Conflict):
    """The confirmation's time ran out; nothing was done."""

    code = "expired"


class AlreadyDecided(Conflict):
    """The confirmation was already confirmed, cancelled or expired (details say how)."""

    code = "already_decided"


class SecondApproverRequired(Conflict):
    """Above the company's threshold a different user must give the second approval."""

    code = "second_approver_required"


class ExecutionFailed(CompanionError):
    """The action was claimed but the ERP refused it; the confirmation is marked failed.

    Carries the ERP error's status and code; the change of state is kept (committed).
    """

    def __init__(self, error: CompanionError, token: str) -> None:
        super().__init__(
            error.message, details={**error.details, "token": token, "status": S.FAILED.value}
        )
        self.status_code = error.status_code
        self.code = error.code


@dataclass(frozen=True)
class Confirmed:
    """What a confirmation did: executed (with its outcome) or now awaits a second approver."""

    action: AiAction
    outcome: Outcome | None

    @property
    def awaiting_second_approval(self) -> bool:
        return self.outcome is None


@dataclass(frozen=True)
class Claimed:
    """A confirmation this caller won (marked executed) whose action is still to be run.

    Run it with ``execute_claimed`` in the same transaction; until that transaction commits, nobody
    else sees the claim, and a rollback undoes both.
    """

    token: str
    action: str
    requested_by: int
    handler: ActionHandler
    actx: RequestContext
    link: str | None
    # The confirmation's row, carrying the claim's values: executing it reads it no more.
    row: AiAction
    # What the re-check read that the execution reads again (``Rechecked.kept``).
    kept: tuple[Any, ...] = ()


def handler_of(action: str) -> ActionHandler:
    """The registered handler of ``action``; an unknown action is a 404."""
    handler = action_for(action)
    if handler is None:
        raise NotFound(f"There is no action called '{action}'", details={"action": action})
    return handler


def check_allowed(
    session: Session, ctx: RequestContext, handler: ActionHandler, rule: ActionRule | None = None
) -> ActionRule:
    """The caller holds the action's permission and the company allows it for the AI.

    Returns the company's rule for the action (read here unless ``rule`` is the one this
    turn already read), so a turn reads it once.
    """
    ctx.require(handler.permission)
    if rule is None or rule.action != handler.action:
        rule = rule_for(session, ctx, handler.action)
    if rule.disabled:
        what = handler.action.replace("_", " ")
        raise ActionDisabled(
            f"The assistant is not allowed to {what} in {ctx.company_slug}; please do it in "
            "the ERP itself.",
            details={"action": handler.action},
        )
    return rule


def propose(
    session: Session,
    ctx: RequestContext,
    handler: ActionHandler,
    params: dict[str, Any],
    *,
    now: dt.datetime,
    settings: ActionSettings,
    conversation_id: str | None = None,
    message_id: str | None = None,
    rule: ActionRule | None = None,
) -> AiAction:
    """Validate ``params`` and store a pending confirmation; nothing else is written.

    ``rule``: the action's rule as the caller's ``check_allowed`` just read it.
    """
    check_allowed(session, ctx, handler, rule)
    check_params(params)
    ratelimit.check(session, ctx, now, settings.proposals_per_minute)
    # A preview's dry run queues its audit entries and rolls them back with its savepoint:
    # it never waits for (or holds) the company's audit head.
    with audit.written_last(session):
        proposal = handler.propose(session, ctx.as_ai(), params)
    row = AiAction(
        company_id=ctx.company_id,
        user_id=ctx.user_id,
        conversation_id=conversation_id,
        message_id=message_id,
        action=handler.action,
        params=jsonable(proposal.params),
        summary=proposal.summary,
        preview=jsonable(proposal.preview),
        amount=proposal.amount,
        document_ref=proposal.document_ref,
        status=S.PENDING.value,
        expires_at=now + dt.timedelta(seconds=settings.expiry_seconds),
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    telemetry.emit(
        session,
        telemetry.ACTION_PROPOSED,
        company_id=ctx.company_id,
        user_id=ctx.user_id,
        message_id=message_id,
        data={"action": row.action, "token": row.token},
    )
    return row


def visible(session: Session, ctx: RequestContext, token: str) -> AiAction:
    """The confirmation if the caller may see it: their own, or one needing a second approver.

    A second-approval confirmation stays visible to would-be approvers once decided, so the
    loser of two concurrent approvals gets the winner's result rather than a 404.
    """
    row = repo.get_action(session, ctx, token)
    if row is not None and _may_see(ctx, row):
        return row
    raise NotFound("No such action confirmation", details={"token": token})


def _may_see(ctx: RequestContext, row: AiAction) -> bool:
    """Whether the caller may see ``row``, a confirmation read for the caller's company."""
    return row.user_id == ctx.user_id or _may_second(ctx, row)


def _may_second(ctx: RequestContext, row: AiAction) -> bool:
    handler = action_for(row.action)
    return (
        row.first_confirmed_by is not None and handler is not None and ctx.can(handler.permission)
    )


def status_now(row: AiAction, now: dt.datetime) -> str:
    """The status as the caller should see it: an open one past its time reads expired."""
    if row.status in (S.PENDING, S.AWAITING_SECOND_APPROVAL) and now >= row.expires_at:
        return S.EXPIRED.value
    return row.status


def confirm(
    session: Session,
    ctx: RequestContext,
    token: str,
    *,
    now: dt.datetime,
    settings: ActionSettings,
    message_id: str | None = None,
) -> Confirmed:
    """Confirm ``token``: execute it once, or record the first of two approvals.

    Its audit entries are chained last (``audit.written_last``), after the ERP's posting.
    """
    with audit.written_last(session):
        claimed = claim_confirmation(
            session, ctx, token, now=now, settings=settings, message_id=message_id
        )
        if isinstance(claimed, Confirmed):
            return claimed
        return execute_claimed(session, ctx, claimed)


def claim_confirmation(
    session: Session,
    ctx: RequestContext,
    token: str,
    *,
    now: dt.datetime,
    settings: ActionSettings,
    message_id: str | None = None,
    row: AiAction | None = None,
) -> Confirmed | Claimed:
    """Check and win ``token`` for execution (``Claimed``), or record a first approval.

    ``row``: the confirmation as this turn already read it (fresh, in this transaction), so
    it is not read again; the conditional claim below still decides any race.

    Raises what ``confirm`` raises before anything is executed: expired, already decided,
    refused (``ExecutionFailed`` when re-validation shows the document moved on).
    """
    if row is None or row.token != token or not _may_see(ctx, row):
        row = visible(session, ctx, token)
    _refuse_closed(row, now)
    handler = handler_of(row.action)
    rule = check_allowed(session, ctx, handler)
    if row.status == S.PENDING:
        threshold = rule.second_approval_above
        if threshold is not None and row.amount is not None and row.amount > threshold:
            won = repo.claim(
                session,
                ctx,
                token,
                S.PENDING.value,
                status=S.AWAITING_SECOND_APPROVAL.value,
                first_confirmed_by=ctx.user_id,
                first_confirmed_at=now,
                expires_at=now + dt.timedelta(seconds=settings.expiry_seconds),
            )
            if not won:
                raise _lost(session, ctx, token)
            return Confirmed(_reread(session, ctx, token), None)
    elif row.first_confirmed_by == ctx.user_id:
        raise SecondApproverRequired(
            "You already gave the first approval; a different user with the "
            f"'{handler.permission}' permission must confirm it.",
            details={"token": token, "permission": handler.permission},
        )
    link = message_id or row.message_id
    actx = dataclasses.replace(
        ctx, via_ai=True, extra={**ctx.extra, "conversation_message_id": link}
    )
    # Re-validate now, before claiming: a caller the ERP refuses changes nothing.
    try:
        rechecked = _revalidate(session, actx, handler, row)
    except CompanionError as exc:
        latest = _reread(session, ctx, token)
        if latest.status not in (S.PENDING, S.AWAITING_SECOND_APPROVAL):
            raise _decided(latest) from None  # someone else finished it meanwhile
        if isinstance(exc, PermissionDenied):
            raise  # another user may still confirm it
        # The document moved on: this proposal can never be carried out as previewed.
        if repo.claim(session, ctx, token, row.status, status=S.FAILED.value, result=_error(exc)):
            raise ExecutionFailed(exc, token) from exc
        raise _lost(session, ctx, token) from exc
    claim: dict[str, Any] = {
        "status": S.EXECUTED.value,
        "executed_by": ctx.user_id,
        "executed_at": now,
    }
    if not repo.claim(session, ctx, token, row.status, **claim):
        raise _lost(session, ctx, token)
    # What the UPDATE wrote, without reading the row again (its ``updated_at`` is written
    # anew when the execution stores the result).
    for key, value in claim.items():
        set_committed_value(row, key, value)
    return Claimed(token, row.action, row.user_id, handler, actx, link, row, rechecked.kept)


def execute_claimed(session: Session, ctx: RequestContext, claimed: Claimed) -> Confirmed:
    """Run a claimed action through the ERP services; ``ExecutionFailed`` marks it failed."""
    token, link = claimed.token, claimed.link
    done = Confirmed(*_execute(session, ctx, claimed.actx, claimed.handler, claimed.row, link))
    telemetry.emit(
        session,
        telemetry.ACTION_CONFIRMED,
        company_id=ctx.company_id,
        user_id=ctx.user_id,
        message_id=link,
        data={"action": claimed.action, "token": token, "requested_by": claimed.requested_by},
    )
    return done


def _revalidate(
    session: Session, actx: RequestContext, handler: ActionHandler, row: AiAction
) -> Rechecked:
    """Propose again and refuse when the document or the amount is no longer the previewed one.

    A handler that can re-check by reading alone (``RechecksByReading``) does so; any other
    proposes again in a savepoint rolled back afterwards (``dry_run``).
    """
    if isinstance(handler, RechecksByReading):
        again = handler.recheck(session, actx, dict(row.params))
    else:
        proposal = dry_run(session, lambda: handler.propose(session, actx, dict(row.params)))
        again = Rechecked(proposal.document_ref, proposal.amount)
    if again.document_ref != row.document_ref or again.amount != row.amount:
        raise InvalidState(
            "The document changed since this was proposed; nothing was done. Please ask again.",
            details={"document_ref": row.document_ref},
        )
    return again


def _execute(
    session: Session,
    ctx: RequestContext,
    actx: RequestContext,
    handler: ActionHandler,
    row: AiAction,
    link: str | None,
) -> tuple[AiAction, Outcome]:
    token = row.token
    try:
        with session.begin_nested():
            outcome = handler.execute(session, actx, dict(row.params))
    except CompanionError as exc:
        row = _reread(session, ctx, token)
        row.status = S.FAILED.value
        row.result = _error(exc)
        session.flush()
        raise ExecutionFailed(exc, token) from exc
    # ``row`` is still current: the savepoint was released, not rolled back (no SELECT again
    # while the action's rows are locked).
    row.result = jsonable(
        {"message": outcome.message, "document_ref": outcome.document_ref, **outcome.result}
    )
    session.flush()
    audit.record(
        session,
        actx,
        "ai.action.executed",
        "ai_action",
        token,
        new={
            "action": row.action,
            "summary": row.summary,
            "params": row.params,
            "document_ref": outcome.document_ref,
            "result": row.result,
            "requested_by": row.user_id,
            "first_confirmed_by": row.first_confirmed_by,
        },
        conversation_message_id=link,
    )
    return row, outcome


def cancel(session: Session, ctx: RequestContext, token: str, *, now: dt.datetime) -> AiAction:
    """Cancel an open confirmation (its owner, or a would-be second approver declining)."""
    row = visible(session, ctx, token)
    _refuse_closed(row, now)
    if not repo.claim(session, ctx, token, row.status, status=S.CANCELLED.value):
        raise _lost(session, ctx, token)
    telemetry.emit(
        session,
        telemetry.ACTION_CANCELLED,
        company_id=ctx.company_id,
        user_id=ctx.user_id,
        data={"action": row.action, "token": token},
    )
    return _reread(session, ctx, token)


def _error(exc: CompanionError) -> dict[str, Any]:
    return {"error": jsonable(exc.to_dict()["error"])}


def _refuse_closed(row: AiAction, now: dt.datetime) -> None:
    if row.status not in (S.PENDING, S.AWAITING_SECOND_APPROVAL):
        raise _decided(row)
    if now >= row.expires_at:
        raise ActionExpired(
            f"This confirmation expired at {row.expires_at:%H:%M:%S} UTC and nothing was done; "
            "ask again to get a fresh preview.",
            details={"token": row.token, "expires_at": row.expires_at.isoformat()},
        )


def _reread(session: Session, ctx: RequestContext, token: str) -> AiAction:
    row = repo.get_action(session, ctx, token)
    assert row is not None  # the caller just saw or claimed it in this transaction
    return row


def _lost(session: Session, ctx: RequestContext, token: str) -> CompanionError:
    """The error for the loser of a race: what the winner did, with its result."""
    return _decided(_reread(session, ctx, token))


_DECIDED_WORDS = {
    S.EXECUTED.value: "was already carried out",
    S.CANCELLED.value: "was cancelled",
    S.EXPIRED.value: "expired",
    S.FAILED.value: "already failed",
    S.AWAITING_SECOND_APPROVAL.value: "already has a first approval and waits for a second "
    "approver",
    S.PENDING.value: "is still pending",
}


def _decided(row: AiAction) -> CompanionError:
    status = row.status
    error_class = ActionExpired if status == S.EXPIRED else AlreadyDecided
    return error_class(
        f"This action {_DECIDED_WORDS.get(status, status)}; nothing more was done.",
        details={
            "token": row.token,
            "status": status,
            "document_ref": (row.result or {}).get("document_ref"),
            "result": row.result,
        },
    )


def describe(confirmed: Confirmed) -> str:
    """The sentence telling the user what their confirmation did."""
    if confirmed.outcome is not None:
        return confirmed.outcome.message
    handler = action_for(confirmed.action.action)
    permission = handler.permission if handler else "the same"
    return (
        "Your approval is recorded. The amount is above the company's limit for one "
        f"approver, so a different user with the '{permission}' permission must confirm it "
        "before it is carried out."
    )
