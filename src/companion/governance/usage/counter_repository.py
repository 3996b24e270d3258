"""Budget counters in the SQL database: one conditional UPDATE per counter, all or none.

``UPDATE usage_counters SET spent = spent + :x WHERE ... AND spent + :x <= :cap`` is one
atomic step on both databases: PostgreSQL re-checks the condition on the row it waited for
(READ COMMITTED), SQLite has one writer at a time. A refused counter rolls back the ones
already added in the same reservation. Counters are updated in key order, so two
reservations never wait on each other crosswise (no deadlock).

Where the transaction runs: on PostgreSQL always in a short one of its own (row locks held
for milliseconds, not for a whole chat turn; a reservation stays made if the request later
fails, and its settlement gives back what was not used). On SQLite the request's own
session when there is one: it already holds the database's one write lock, so a second
connection could only wait for it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from sqlalchemy import case, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, sessionmaker

from companion.governance.usage.counters import Charge, CounterKey
from companion.governance.usage.models import UsageCounter

T = TypeVar("T")


class _Refused(Exception):
    """Rolls back a reservation's savepoint when one counter refused."""

    def __init__(self, charge: Charge) -> None:
        super().__init__(charge.key)
        self.charge = charge


def _where(key: CounterKey) -> tuple[object, ...]:
    return (
        UsageCounter.company_id == key.company_id,
        UsageCounter.scope == key.scope,
        UsageCounter.subject == key.subject,
        UsageCounter.period == key.period,
        UsageCounter.metric == key.metric,
    )


def ensure_rows(session: Session, keys: Sequence[CounterKey]) -> None:
    """Create missing counters at zero (a concurrent creator's row is kept)."""
    if not keys:
        return
    values = [
        {
            "company_id": k.company_id,
            "scope": k.scope,
            "subject": k.subject,
            "period": k.period,
            "metric": k.metric,
            "spent": 0,
        }
        for k in keys
    ]
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = insert(UsageCounter).values(values).on_conflict_do_nothing()
    session.execute(stmt)


def add_all_or_none(session: Session, charges: Sequence[Charge]) -> None:
    """Add every charge (in key order); raise ``_Refused`` at the first cap that refuses."""
    ensure_rows(session, [c.key for c in charges])
    for charge in sorted(charges, key=lambda c: c.key):
        stmt = (
            update(UsageCounter)
            .where(*_where(charge.key))  # type: ignore[arg-type]
            .values(spent=UsageCounter.spent + charge.amount)
            .execution_options(synchronize_session=False)
        )
        if charge.cap is not None:
            stmt = stmt.where(UsageCounter.spent + charge.amount <= charge.cap)
        if session.execute(stmt).rowcount != 1:  # type: ignore[attr-defined]
            raise _Refused(charge)


def take_off(session: Session, charges: Sequence[Charge]) -> None:
    """Subtract each charge's amount, never below zero."""
    for charge in sorted(charges, key=lambda c: c.key):
        if not charge.amount:
            continue
        left = UsageCounter.spent - charge.amount
        session.execute(
            update(UsageCounter)
            .where(*_where(charge.key))  # type: ignore[arg-type]
            .values(spent=case((left < 0, 0), else_=left))
            .execution_options(synchronize_session=False)
        )


def read_counters(session: Session, keys: Sequence[CounterKey]) -> dict[CounterKey, int]:
    """What each counter holds (0 for one never charged)."""
    found = {k: 0 for k in keys}
    for key in keys:
        spent = session.execute(select(UsageCounter.spent).where(*_where(key))).scalar()  # type: ignore[arg-type]
        if spent is not None:
            found[key] = int(spent)
    return found


class SqlCounters:
    """Counters in the ``usage_counters`` table."""

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._factory = session_factory

    def _run(self, session: Session | None, work: Callable[[Session], T]) -> T:
        if session is not None and session.get_bind().dialect.name == "sqlite":
            with session.begin_nested():
                return work(session)
        with self._factory() as own:
            try:
                result = work(own)
                own.commit()
                return result
            except BaseException:
                own.rollback()
                raise

    def reserve(self, charges: Sequence[Charge], session: Session | None = None) -> Charge | None:
        if not charges:
            return None
        try:
            self._run(session, lambda s: add_all_or_none(s, charges))
        except _Refused as refused:
            return refused.charge
        return None

    def release(self, charges: Sequence[Charge], session: Session | None = None) -> None:
        if any(c.amount for c in charges):
            self._run(session, lambda s: take_off(s, charges))

    def read(
        self, keys: Sequence[CounterKey], session: Session | None = None
    ) -> dict[CounterKey, int]:
        if session is not None:
            return read_counters(session, keys)
        with self._factory() as own:
            return read_counters(own, keys)
