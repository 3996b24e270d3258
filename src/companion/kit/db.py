"""Database plumbing: the declarative base, column types, engines and sessions.

SQL lives in repositories; services never commit. The request, job or CLI command that
opened a session commits it once (``session_scope``).

The reads every request or chat turn makes (sign-in, the turn context, a follow-up's
conversation) are statements built once, at import, with ``bindparam()``s, and run with a
parameters dict; their company filter is ``tenancy.context.scoped_later``. SQLAlchemy
memoises a statement's cache key and ORM compile state on the statement object, so a reused
one skips building them: ~0.18 ms of client CPU per execution against ~0.40 ms for the same
``select()`` built at the call (``lambda_stmt``: 0.44 ms).
"""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable, Hashable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Generic, TypeVar

from sqlalchemy import (
    JSON,
    DateTime,
    Dialect,
    ForeignKey,
    Integer,
    MetaData,
    Numeric,
    String,
    TypeDecorator,
    create_engine,
    event,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    ORMExecuteState,
    Session,
    SessionTransaction,
    mapped_column,
    sessionmaker,
)
from sqlalchemy.sql.elements import TextClause

from companion.kit.money import quantize

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base of every table."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dict[str, Any]: JSON, list[str]: JSON, list[dict[str, Any]]: JSON}


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware UTC timestamp on every backend (SQLite stores it naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given for a UTC column")
        return value.astimezone(dt.UTC)

    def process_result_value(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


class Money(TypeDecorator[Decimal]):
    """Money and quantities: ``Decimal`` in Python, ``NUMERIC(p, s)`` in the database.

    PostgreSQL stores and sums exactly. SQLite has no decimal type, so values are bound
    as text and every read (aggregates included) is quantized back to the column's scale.
    """

    impl = Numeric
    cache_ok = True

    def __init__(self, precision: int = 18, scale: int = 2) -> None:
        super().__init__(precision, scale)
        self.precision = precision
        self.scale = scale

    def __repr__(self) -> str:
        return f"Money({self.precision}, {self.scale})"

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(Numeric(self.precision, self.scale, asdecimal=False))
        return dialect.type_descriptor(Numeric(self.precision, self.scale, asdecimal=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        amount = quantize(Decimal(str(value)), self.scale)
        return str(amount) if dialect.name == "sqlite" else amount

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return quantize(Decimal(str(value)), self.scale)


def utcnow() -> dt.datetime:
    """Now, timezone-aware in UTC."""
    return dt.datetime.now(dt.UTC)


class IdMixin:
    id: Mapped[int] = mapped_column(Integer, primary_key=True)


class TimestampMixin:
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class TenantMixin:
    """Every tenant table carries a non-null, indexed ``company_id``."""

    company_id: Mapped[int] = mapped_column(
        ForeignKey("companies.id", ondelete="RESTRICT"), index=True, nullable=False
    )


def code_column(length: int = 32) -> Mapped[str]:
    """A short human code (SKU, customer code, document number)."""
    return mapped_column(String(length), nullable=False)


def make_engine(url: str, *, echo: bool = False, busy_timeout_s: float = 30.0) -> Engine:
    """An engine for SQLite or PostgreSQL with the settings Companion relies on.

    ``busy_timeout_s``: how long a SQLite connection waits for another writer's lock
    before "database is locked" (the server answers that 503 ``database_busy``).
    """
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            echo=echo,
            connect_args={"check_same_thread": False, "timeout": busy_timeout_s},
        )
        _configure_sqlite(engine, busy_timeout_s)
        return engine
    engine = create_engine(url, echo=echo, pool_pre_ping=True, pool_size=10, max_overflow=10)
    # Rows given as a list of parameters (``execute(insert(t), rows)``) go to PostgreSQL as
    # one multi-row INSERT, as they do with RETURNING, instead of psycopg's ``executemany``
    # (one statement a row): one compiled, cached statement and one execution on the server.
    # SQLAlchemy does the same by default for psycopg2 (``executemany_mode="values_only"``).
    engine.dialect.use_insertmanyvalues_wo_returning = True
    return engine


class WriterQueue:
    """A SQLite engine's write lock inside the process, handed over first come, first served.

    SQLite's own busy handler makes a writer waiting for ``BEGIN IMMEDIATE`` sleep in growing
    steps (up to 100 ms each) and retry, so under a queue of writers the lock sits free while
    they sleep and the last in line waits longest: a queue becomes a tail. Writers of one
    process wait here instead and are woken the moment the lock is given back, in the order
    they came. Other processes on the same file still meet SQLite's busy handler.

    The holder is the DB-API connection whose transaction holds the lock, not a thread: a
    request's unit of work may begin in one worker thread and commit in another.
    """

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._waiting: deque[object] = deque()
        self._holder: object | None = None

    @property
    def holder(self) -> object | None:
        """The connection holding the lock, if any."""
        return self._holder

    @property
    def waiting(self) -> int:
        """How many connections are queued for the lock."""
        return len(self._waiting)

    def acquire(self, holder: object, timeout_s: float) -> bool:
        """Take the lock for ``holder`` once those before it are done; False after ``timeout_s``."""
        with self._changed:
            if self._holder is None and not self._waiting:
                self._holder = holder
                return True
            self._waiting.append(holder)
            deadline = time.monotonic() + timeout_s
            try:
                while self._holder is not None or self._waiting[0] is not holder:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0 or not self._changed.wait(remaining):
                        if self._holder is None and self._waiting[0] is holder:
                            break  # given to us just as the wait ran out
                        return False
                self._holder = holder
                return True
            finally:
                self._waiting.remove(holder)
                self._changed.notify_all()  # the next in line may now be first

    def release(self, holder: object) -> bool:
        """Give the lock back if ``holder`` holds it (True); anything else is a no-op."""
        with self._changed:
            if self._holder is not holder:
                return False
            self._holder = None
            self._changed.notify_all()
            return True


def writer_queue(engine: Engine) -> WriterQueue | None:
    """The in-process write lock of a SQLite ``engine`` (None for other databases)."""
    queue: WriterQueue | None = getattr(engine.dialect, _WRITER_QUEUE, None)
    return queue


_WRITER_QUEUE = "companion_writer_queue"


def _configure_sqlite(engine: Engine, busy_timeout_s: float) -> None:
    """Foreign keys on, WAL, transactions that SQLAlchemy (not pysqlite) controls, and
    write transactions that queue on the engine's ``WriterQueue`` before ``BEGIN IMMEDIATE``."""
    busy_timeout_ms = round(busy_timeout_s * 1000)
    queue = WriterQueue()
    dialect = engine.dialect  # one dialect object per engine: the queue is the engine's
    setattr(dialect, _WRITER_QUEUE, queue)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, connection_record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        if not conn.get_execution_options().get(WRITE_INTENT):
            conn.exec_driver_sql("BEGIN")
            return
        holder = conn.connection.dbapi_connection
        if not queue.acquire(holder, busy_timeout_s):
            raise OperationalError(
                "BEGIN IMMEDIATE",
                None,
                sqlite3.OperationalError("database is locked (queued for the write lock)"),
            )
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            queue.release(holder)
            raise

    # The lock is given back once the transaction has ended in the database, not before:
    # Connection's "commit"/"rollback" events fire before the COMMIT, which would wake the
    # next writer into SQLite's busy handler. The pool's reset on check-in and a connection
    # closed (invalidated) come through the same dialect methods.
    for name in ("do_commit", "do_rollback", "do_close"):
        setattr(dialect, name, _releasing(getattr(dialect, name), queue))


def _releasing(end: Any, queue: WriterQueue) -> Any:
    def ended(dbapi_connection: Any) -> None:
        try:
            end(dbapi_connection)
        finally:
            queue.release(getattr(dbapi_connection, "dbapi_connection", dbapi_connection))

    return ended


WRITE_INTENT = "companion_write_intent"


def begin_for_writing(session: Session) -> None:
    """Start the session's transaction as one that will write.

    On SQLite this is ``BEGIN IMMEDIATE``: a deferred transaction that reads and then writes
    fails at once with "database is locked" when another one wrote in between (the busy
    timeout cannot save it), while an immediate one queues on the lock. Other databases,
    and sessions already joined to an outer transaction (tests), are left as they are.
    """
    bind = session.get_bind()
    if isinstance(bind, Engine) and bind.dialect.name == "sqlite":
        session.connection(execution_options={WRITE_INTENT: True})


READS_ONLY = "companion_reads_only"  # in Session.info while a phase of the session only reads

_DML = re.compile(r"^\s*(insert|update|delete|replace)\b", re.IGNORECASE)


class WriteWhileReading(RuntimeError):
    """A write inside a phase declared to only read (``begin_reading``): a programming error.

    On SQLite such a write would upgrade a deferred transaction, which fails at once with
    "database is locked" whenever another writer committed since it began. Whatever writes
    belongs after ``begin_writing``.
    """


def _splits(session: Session) -> bool:
    """Whether reading and writing are separate transactions: SQLite on an engine of its own."""
    bind = session.get_bind()
    return isinstance(bind, Engine) and bind.dialect.name == "sqlite"


def begin_reading(session: Session) -> None:
    """Start a phase of ``session`` that only reads, until ``begin_writing``.

    On SQLite (a session on an engine, not joined to an outer transaction) what the session
    did so far is committed (a request's sign-in), and the phase reads in a deferred
    transaction: in WAL mode it takes no lock, so it never waits for writers nor makes them
    wait. Elsewhere the transaction carries on (PostgreSQL takes concurrent writers; rows
    the phase locks stay locked). On every database a write in the phase raises
    ``WriteWhileReading``, so one cannot hide in a phase that SQLite would not let write.
    """
    if _splits(session) and session.in_transaction():
        session.commit()
    session.info[READS_ONLY] = True


def begin_writing(session: Session) -> bool:
    """End the phase that only reads and start the session's write transaction.

    True when a new transaction began (SQLite: what was read is expired, to be read again
    under the write lock, since another writer may have changed it); False when the
    transaction carries on (PostgreSQL, or a session joined to an outer transaction).
    """
    session.info.pop(READS_ONLY, None)
    if not _splits(session):
        return False
    session.commit()  # ends the deferred transaction, which wrote nothing
    session.expire_all()
    begin_for_writing(session)
    return True


def is_reading(session: Session) -> bool:
    """Whether ``session`` is in a phase that only reads (``begin_reading``)."""
    return bool(session.info.get(READS_ONLY))


@event.listens_for(Session, "before_flush")
def _no_flush_while_reading(session: Session, flush_context: Any, instances: Any) -> None:
    if not session.info.get(READS_ONLY):
        return
    changed = [*session.new, *session.deleted]
    changed += [o for o in session.dirty if session.is_modified(o)]
    if changed:
        names = sorted({type(o).__name__ for o in changed})
        raise WriteWhileReading(f"a flush of {', '.join(names)} while the session only reads")


@event.listens_for(Session, "do_orm_execute")
def _no_dml_while_reading(state: ORMExecuteState) -> None:
    if not state.session.info.get(READS_ONLY):
        return
    statement = state.statement
    if (
        state.is_insert
        or state.is_update
        or state.is_delete
        or (isinstance(statement, TextClause) and _DML.match(statement.text))
    ):
        raise WriteWhileReading(f"{str(statement)[:80]!r} while the session only reads")


# PostgreSQL's transient contention: deadlock detected, serialization failure, lock not
# available. The transaction was rolled back whole; the same request may simply be retried.
_PG_CONTENTION = frozenset({"40P01", "40001", "55P03"})


def is_lock_timeout(error: BaseException) -> bool:
    """Whether ``error`` is lock contention worth a retry, not a fault.

    SQLite's "database is locked" (or "busy": a writer held it too long), or PostgreSQL
    picking this transaction as a deadlock's victim (or a serialization failure).
    """
    if not isinstance(error, OperationalError):
        return False
    if getattr(error.orig, "sqlstate", None) in _PG_CONTENTION:
        return True
    text = str(error.orig if error.orig is not None else error).lower()
    return "database is locked" in text or "database is busy" in text


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded objects usable after commit."""
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=True)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


V = TypeVar("V")


@dataclass(frozen=True, slots=True)
class Kept(Generic[V]):
    """A value a ``TransactionMemo`` kept: the transaction and key it is for, and itself."""

    transaction: SessionTransaction | None
    key: Hashable
    value: V


class TransactionMemo(Generic[V]):
    """One value kept in ``Session.info`` under ``name`` for the session's current transaction.

    What one step of a request read is reused by a later step of the same transaction, and
    only there: after a commit or a rollback (SQLite's write phase begins a new transaction)
    or under another key the value is not seen, so nothing read before is trusted after.
    One value per name: ``put`` replaces the last one.
    """

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def put(self, session: Session, key: Hashable, value: V) -> None:
        """Keep ``value`` under ``key`` for the session's current transaction."""
        session.info[self.name] = Kept(session.get_transaction(), key, value)

    def get(self, session: Session, key: Hashable) -> Kept[V] | None:
        """What was kept under ``key`` in this transaction, else None; it stays kept."""
        return self._current(session, key, session.info.get(self.name))

    def take(self, session: Session, key: Hashable) -> Kept[V] | None:
        """Like ``get``, but whatever was kept is dropped, of this key or not: used once."""
        return self._current(session, key, session.info.pop(self.name, None))

    def clear(self, session: Session) -> None:
        """Drop whatever was kept."""
        session.info.pop(self.name, None)

    @staticmethod
    def _current(session: Session, key: Hashable, kept: Kept[V] | None) -> Kept[V] | None:
        if kept is None or kept.transaction is not session.get_transaction() or kept.key != key:
            return None
        return kept


class TransactionQueue(Generic[V]):
    """Items kept in ``Session.info`` under ``name`` to be written together later in the
    transaction that queued them (the audit chain's entries, telemetry events).

    Each item remembers the innermost transaction (or savepoint) it was queued in: when that
    rolls back, the item is dropped, as a row added there would be. The outermost commit
    writes what is left first (``write``, given the items in order), and nothing queued
    outlives its transaction (a closed session's, say). ``flush`` writes them sooner.
    """

    def __init__(self, name: str, write: Callable[[Session, list[V]], None]) -> None:
        self.name = name
        self._write = write
        event.listen(Session, "after_soft_rollback", self._drop_rolled_back)
        event.listen(Session, "before_commit", self._write_before_commit)
        event.listen(Session, "after_transaction_end", self._forget)

    def put(self, session: Session, *items: V) -> None:
        """Queue ``items`` in the session's innermost transaction (begun if none is yet, as
        adding a row would)."""
        where = session.get_nested_transaction() or session.get_transaction() or session.begin()
        queued: list[tuple[V, SessionTransaction]] = session.info.setdefault(self.name, [])
        queued.extend((item, where) for item in items)

    def pending(self, session: Session) -> bool:
        """Whether anything is queued."""
        return bool(session.info.get(self.name))

    def flush(self, session: Session) -> None:
        """Write the queued items now (in order), if any."""
        queued: list[tuple[V, SessionTransaction]] | None = session.info.pop(self.name, None)
        if queued:
            self._write(session, [item for item, _ in queued])

    def _drop_rolled_back(self, session: Session, previous: SessionTransaction) -> None:
        queued: list[tuple[V, SessionTransaction]] | None = session.info.get(self.name)
        if queued:
            session.info[self.name] = [
                (item, where) for item, where in queued if not _within(where, previous)
            ]

    def _write_before_commit(self, session: Session) -> None:
        if session.info.get(self.name) and not session.in_nested_transaction():
            self.flush(session)

    def _forget(self, session: Session, transaction: SessionTransaction) -> None:
        if transaction.parent is None:
            session.info.pop(self.name, None)


def _within(transaction: SessionTransaction | None, ended: SessionTransaction) -> bool:
    """Whether ``transaction`` is ``ended`` or nested inside it."""
    while transaction is not None:
        if transaction is ended:
            return True
        transaction = transaction.parent
    return False


def add_to_totals(
    session: Session,
    model: Any,
    rows: Sequence[dict[str, Any]],
    keys: Sequence[str],
    summed: Sequence[str],
) -> None:
    """Insert rows of running totals, or add their ``summed`` columns to the rows already
    there with the same ``keys`` (the table's unique key): one upsert, atomic under
    concurrent writers on SQLite and PostgreSQL (``account_days``, ``sales_months``)."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = model.__table__
    stmt = insert(table)
    stmt = stmt.on_conflict_do_update(
        index_elements=list(keys),
        set_={column: table.c[column] + stmt.excluded[column] for column in summed},
    )
    # The rows as parameters, not in ``values()``: SQLAlchemy compiles a statement with a
    # list in ``values()`` again every time (it is never cached); this one is compiled once.
    session.execute(stmt, list(rows))
