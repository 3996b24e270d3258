"""Runs a data query read-only, after its permission check.

The query runs inside a savepoint that is always rolled back: on PostgreSQL the savepoint
is made ``READ ONLY`` (a write errors), on SQLite the connection is set ``query_only`` for
the duration. Either way a query that tries to write fails closed and leaves nothing behind.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import text
from sqlalchemy.orm import Session

from companion.assistant.queries.registry import QueryParams, QueryResult, QuerySpec
from companion.tenancy.context import RequestContext


@contextmanager
def read_only(session: Session) -> Iterator[None]:
    """A read-only scope inside the session's transaction; rolled back on exit."""
    session.flush()
    nested = session.begin_nested()
    dialect = session.get_bind().dialect.name
    try:
        if dialect == "postgresql":
            session.execute(text("SET TRANSACTION READ ONLY"))
        elif dialect == "sqlite":
            session.execute(text("PRAGMA query_only = ON"))
        yield
    finally:
        # Roll back first: a refused write leaves the savepoint deactivated, and the session
        # would refuse the PRAGMA below (and every later statement) until it is rolled back.
        if session.get_nested_transaction() is nested:
            nested.rollback()
        if dialect == "sqlite":
            session.execute(text("PRAGMA query_only = OFF"))


def run_query(
    session: Session, ctx: RequestContext, spec: QuerySpec, params: QueryParams, today: dt.date
) -> QueryResult:
    """Check the permission, then run the query read-only."""
    ctx.require(spec.permission_for(params))
    with read_only(session):
        return spec.fn(session, ctx, params, today)
