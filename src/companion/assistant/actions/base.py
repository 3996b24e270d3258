"""The action-handler interface, the registry of handlers, and ``dry_run`` for exact previews.

A handler turns an action intent ("approve_purchase_order") into four steps: gather the
parameters from the user's turns, ask for what is missing, propose (validate; nothing is
written), and execute (call the ERP services). The framework in ``service.py`` stores the
proposal as a pending confirmation and runs ``execute`` exactly once after the user says yes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol, TypeVar, runtime_checkable

from sqlalchemy.orm import Session

from companion.kit.registry import Registry
from companion.tenancy.context import RequestContext

T = TypeVar("T")


@dataclass(frozen=True)
class Ask:
    """A clarifying question for a missing or ambiguous slot."""

    slot: str
    question: str
    choices: list[str] | None = None
    # Answered in the user's own words (a reason, a name): whatever the classifier makes of
    # the reply, it answers this question unless it names a document or a verb of doing.
    free_text: bool = False


@dataclass(frozen=True)
class Proposal:
    """The result of validating complete parameters; nothing is written."""

    summary: str
    preview: dict[str, Any]
    params: dict[str, Any]
    amount: Decimal | None = None
    document_ref: str | None = None


@dataclass(frozen=True)
class Outcome:
    """What an executed action did."""

    message: str
    document_ref: str | None
    result: dict[str, Any]


class ActionHandler(Protocol):
    """One action intent: gather its parameters, ask, propose, execute."""

    action: str
    permission: str

    def gather(
        self,
        session: Session,
        ctx: RequestContext,
        params: dict[str, Any],
        entities: dict[str, Any],
        text: str,
        today: dt.date,
    ) -> dict[str, Any]:
        """Merge this turn's entities and text into ``params``; corrections overwrite."""
        ...

    def missing(self, session: Session, ctx: RequestContext, params: dict[str, Any]) -> Ask | None:
        """The next question to ask, or None when the parameters are complete."""
        ...

    def propose(self, session: Session, ctx: RequestContext, params: dict[str, Any]) -> Proposal:
        """Validate against the ERP rules and describe the effects; raise CompanionError if not."""
        ...

    def execute(self, session: Session, ctx: RequestContext, params: dict[str, Any]) -> Outcome:
        """Do it through the ``erp`` services with ``ctx`` (already ``as_ai()``)."""
        ...


@dataclass(frozen=True)
class Rechecked:
    """A proposal checked again at confirmation: what is compared with the preview."""

    document_ref: str | None
    amount: Decimal | None
    # ORM objects the execution reads again: held until it runs, so the session's identity
    # map (which holds objects only weakly) still has them and ``session.get`` costs nothing.
    kept: tuple[Any, ...] = ()


@runtime_checkable
class RechecksByReading(Protocol):
    """A handler whose proposal can be re-checked at confirmation by reading alone.

    ``recheck`` refuses what ``propose`` would refuse and returns what the confirmation
    compares with the preview without writing anything, so the confirmation needs no
    savepoint and rolls nothing back (which would expire every object the turn has read).
    Other handlers are re-checked by proposing again in a ``dry_run``.
    """

    def recheck(self, session: Session, ctx: RequestContext, params: dict[str, Any]) -> Rechecked:
        """The document and amount as ``propose`` would give them; raise as it would."""
        ...


# The modules of ``actions.handlers`` register their handlers on import.
_REGISTRY: Registry[ActionHandler] = Registry(
    "companion.assistant.actions.handlers", duplicate="action {name!r} is already registered"
)


def register_action(handler: ActionHandler) -> ActionHandler:
    """Register ``handler`` under its action name; a second one for the same name is an error."""
    return _REGISTRY.register(handler.action, handler)


def action_for(name: str) -> ActionHandler | None:
    """The handler registered for action ``name``, or None."""
    return _REGISTRY.get(name)


def all_actions() -> list[str]:
    """The names of every registered action, sorted."""
    return _REGISTRY.names()


def dry_run(session: Session, fn: Callable[[], T]) -> T:
    """Run ``fn`` inside a savepoint and roll it back: what it returns is read, nothing stays.

    Handlers call this in ``propose`` to compute an exact preview by executing the ERP
    service and discarding the writes. ``fn`` must copy what it needs out of ORM objects
    (plain values) before returning, because the rolled-back rows are expired.
    """
    nested = session.begin_nested()
    try:
        return fn()
    finally:
        if nested.is_active:
            nested.rollback()
