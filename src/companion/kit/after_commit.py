"""Work released only once a session's transaction commits (background jobs, index updates).

Each session keeps its own queue in ``session.info``. A commit of the outermost transaction
runs the queue in order; a rollback drops what was queued in the rolled-back transaction,
including a savepoint (``begin_nested``) rolled back while the outer transaction goes on to
commit. Releasing a savepoint releases nothing: its work waits for the real commit.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

log = logging.getLogger(__name__)

_QUEUE = "companion.kit.after_commit"


@dataclass(frozen=True)
class _Pending:
    queued_in: SessionTransaction | None
    action: Callable[[], None]
    failure: str


def after_commit(
    session: Session, action: Callable[[], None], *, failure: str = "an after-commit action failed"
) -> None:
    """Run ``action`` once ``session`` commits; drop it if its transaction rolls back.

    ``failure`` is logged (with the traceback) if the action raises: the commit is done by
    then, so an action's error must not reach the caller that committed.
    """
    if _QUEUE not in session.info:
        session.info[_QUEUE] = []
        event.listen(session, "after_commit", _release)
        event.listen(session, "after_soft_rollback", _drop_rolled_back)
    queued_in = session.get_nested_transaction() or session.get_transaction()
    session.info[_QUEUE].append(_Pending(queued_in, action, failure))


def _release(session: Session) -> None:
    if session.get_nested_transaction() is not None:
        return  # a savepoint was released; the transaction itself has not committed yet
    pending: list[_Pending] = session.info.get(_QUEUE, [])
    session.info[_QUEUE] = []
    for item in pending:
        try:
            item.action()
        except Exception:  # the commit is done: a failed follow-up must not undo it
            log.exception("%s", item.failure)


def _drop_rolled_back(session: Session, previous_transaction: SessionTransaction) -> None:
    def inside(transaction: SessionTransaction | None) -> bool:
        while transaction is not None:
            if transaction is previous_transaction:
                return True
            transaction = transaction.parent
        return False

    session.info[_QUEUE] = [p for p in session.info.get(_QUEUE, []) if not inside(p.queued_in)]
