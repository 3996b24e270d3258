"""Audit entries chained last (``audit.written_last``): queued, then written at the scope's end.

The chain comes out as ``record`` writes it one by one (gapless seq, each entry linked to the
one before, ``verify`` passes); entries of a savepoint that rolls back vanish; and, on a
database of its own with committed data, the company's audit head is not locked until the
scope ends (PostgreSQL: another connection locks it with NOWAIT meanwhile).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from companion.audit import service as audit
from companion.audit.models import AuditEntry, AuditHead
from companion.kit import migrate
from companion.kit.db import make_engine, make_session_factory, session_scope
from companion.tenancy.context import RequestContext
from companion.tenancy.models import Company
from dbutil import audit_head_locked, new_database_url
from factories import make_company, make_user


def _ctx(session: Session, company: Company) -> RequestContext:
    user = make_user(session, f"clerk-{company.slug}")
    return RequestContext(
        user_id=user.id,
        username=user.username,
        company_id=company.id,
        company_slug=company.slug,
        currency=company.base_currency,
        roles=("admin",),
        permissions=frozenset(),
    )


def _entries(session: Session, company: Company) -> list[tuple[int, str, str | None]]:
    rows = session.execute(
        select(AuditEntry.seq, AuditEntry.action, AuditEntry.entity_id)
        .where(AuditEntry.chain == audit.company_chain(company.id))
        .order_by(AuditEntry.seq)
    )
    return [(seq, action, entity_id) for seq, action, entity_id in rows]


def _head(session: Session, company: Company) -> int | None:
    chain = audit.company_chain(company.id)
    return session.execute(select(AuditHead.seq).where(AuditHead.chain == chain)).scalar()


def test_entries_are_queued_then_chained_in_order(session: Session) -> None:
    acme = make_company(session, "acme")
    ctx = _ctx(session, acme)
    audit.record(session, ctx, "before", "x", 0)
    with audit.written_last(session):
        first = audit.record(session, ctx, "one", "x", 1, new={"n": 1})
        assert audit.record_many(session, ctx, "many", "x", [(2, None, {"n": 2}), (3, None, None)])
        last = audit.record(session, ctx, "four", "x", 4, old={"n": 3})
        # Nothing written and the head untouched until the scope ends.
        assert first.seq is None and first.hash is None
        assert _entries(session, acme) == [(1, "before", "0")] and _head(session, acme) == 1
    assert _entries(session, acme) == [
        (1, "before", "0"),
        (2, "one", "1"),
        (3, "many", "2"),
        (4, "many", "3"),
        (5, "four", "4"),
    ]
    assert _head(session, acme) == 5
    assert (first.seq, last.seq) == (2, 5)
    stored = session.execute(select(AuditEntry.hash).where(AuditEntry.seq == 5)).scalar()
    assert last.hash == stored
    assert audit.verify(session, {audit.company_chain(acme.id)}).ok
    audit.record(session, ctx, "after", "x", 5)  # outside the scope: at once, as before
    assert _entries(session, acme)[-1] == (6, "after", "5")
    assert audit.verify(session).ok


def test_a_rolled_back_savepoint_takes_its_entries_with_it(session: Session) -> None:
    acme, globex = make_company(session, "acme"), make_company(session, "globex")
    ctx, other = _ctx(session, acme), _ctx(session, globex)
    with audit.written_last(session):
        audit.record(session, ctx, "kept", "x", 1)
        with session.begin_nested():  # released: its entry stays
            audit.record(session, other, "released", "x", 2)
        nested = session.begin_nested()
        audit.record(session, ctx, "dropped", "x", 3)
        with session.begin_nested():  # released into the savepoint that rolls back
            audit.record(session, ctx, "dropped too", "x", 4)
        nested.rollback()
        audit.record(session, ctx, "kept too", "x", 5)
    assert _entries(session, acme) == [(1, "kept", "1"), (2, "kept too", "5")]
    assert _entries(session, globex) == [(1, "released", "2")]
    assert audit.verify(session).ok


def test_after_an_error_the_queue_goes_with_the_transaction(session: Session) -> None:
    acme = make_company(session, "acme")
    ctx = _ctx(session, acme)
    session.commit()
    with pytest.raises(RuntimeError), audit.written_last(session):
        audit.record(session, ctx, "lost", "x", 1)
        raise RuntimeError("the caller rolls back")
    session.rollback()
    with pytest.raises(RuntimeError), audit.written_last(session):
        audit.record(session, ctx, "kept", "x", 2)
        raise RuntimeError("the caller commits what was done (a refused action's state)")
    session.commit()
    assert _entries(session, acme) == [(1, "kept", "2")]
    assert audit.verify(session).ok


def test_scopes_nest_and_the_outermost_writes(session: Session) -> None:
    acme = make_company(session, "acme")
    ctx = _ctx(session, acme)
    with audit.written_last(session):
        with audit.written_last(session):
            audit.record(session, ctx, "inner", "x", 2)
        assert _entries(session, acme) == []  # the outermost scope writes
        audit.record(session, ctx, "outer", "x", 3)
    assert _entries(session, acme) == [(1, "inner", "2"), (2, "outer", "3")]
    assert audit.verify(session).ok


def test_a_commit_inside_writes_the_queue_in_its_own_transaction(session: Session) -> None:
    acme = make_company(session, "acme")
    ctx = _ctx(session, acme)
    with audit.written_last(session):
        audit.record(session, ctx, "committed", "x", 1)
        session.commit()  # the fixture's commit releases a savepoint: the queue goes with it
        assert _entries(session, acme) == [(1, "committed", "1")]
        audit.record(session, ctx, "rolled back", "x", 2)
        session.rollback()
        audit.record(session, ctx, "last", "x", 3)
    assert _entries(session, acme) == [(1, "committed", "1"), (2, "last", "3")]
    assert audit.verify(session).ok


@pytest.fixture(scope="module")
def own_engine(
    backend: str, tmp_path_factory: pytest.TempPathFactory, pg_database_factory: list[str]
) -> Iterator[Engine]:
    url = new_database_url(backend, tmp_path_factory.mktemp("audit-last"), pg_database_factory)
    engine = make_engine(url)
    migrate.upgrade(engine)
    yield engine
    engine.dispose()


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_the_head_is_locked_only_from_the_scopes_end(own_engine: Engine, backend: str) -> None:
    factory = make_session_factory(own_engine)
    with session_scope(factory) as session:
        acme = make_company(session, "acme")
        ctx = _ctx(session, acme)
        audit.record(session, ctx, "genesis", "x", 0)
    chain = audit.company_chain(acme.id)
    seen = []
    with session_scope(factory) as session:
        with audit.written_last(session):
            audit.record(session, ctx, "posted", "x", 1)
            session.flush()
            seen.append(audit_head_locked(own_engine, chain))
        seen.append(audit_head_locked(own_engine, chain))  # written, not yet committed
    seen.append(audit_head_locked(own_engine, chain))
    assert seen == [False, True, False]
    with factory() as session:
        assert session.execute(select(func.count()).select_from(AuditEntry)).scalar() == 2
        assert audit.verify(session).ok
