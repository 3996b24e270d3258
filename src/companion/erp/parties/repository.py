"""Every query on customers and suppliers, scoped to the caller's company."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, func, insert, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from companion.erp.parties.models import Customer, Supplier
from companion.errors import Conflict, NotFound
from companion.tenancy.context import RequestContext, scoped

P = TypeVar("P", Customer, Supplier)

_LABEL = {Customer: "Customer", Supplier: "Supplier"}


def like_pattern(text: str) -> str:
    """A case-insensitive ``LIKE`` pattern matching ``text`` anywhere, wildcards escaped."""
    escaped = text.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def get_party(session: Session, ctx: RequestContext, model: type[P], party_id: int) -> P:
    """One customer or supplier of the caller's company; another company's is NotFound."""
    party = session.execute(
        scoped(select(model), model, ctx).where(model.id == party_id)
    ).scalar_one_or_none()
    if party is None:
        label = _LABEL[model]
        raise NotFound(f"{label} {party_id} not found", details={f"{label.lower()}_id": party_id})
    return party


def get_customer(session: Session, ctx: RequestContext, customer_id: int) -> Customer:
    """One customer of the caller's company."""
    return get_party(session, ctx, Customer, customer_id)


def get_supplier(session: Session, ctx: RequestContext, supplier_id: int) -> Supplier:
    """One supplier of the caller's company."""
    return get_party(session, ctx, Supplier, supplier_id)


def find_clash(
    session: Session,
    ctx: RequestContext,
    model: type[P],
    *,
    code: str | None = None,
    name: str | None = None,
    exclude_id: int | None = None,
) -> P | None:
    """Another party of the company with the same code or exactly the same name."""
    matches: list[ColumnElement[bool]] = []
    if code is not None:
        matches.append(model.code == code)
    if name is not None:
        matches.append(model.name == name)
    if not matches:
        return None
    stmt = scoped(select(model), model, ctx).where(or_(*matches))
    if exclude_id is not None:
        stmt = stmt.where(model.id != exclude_id)
    return session.execute(stmt.order_by(model.id).limit(1)).scalar_one_or_none()


def clashes(
    session: Session,
    ctx: RequestContext,
    model: type[P],
    codes: Collection[str],
    names: Collection[str],
) -> list[tuple[str, str]]:
    """The company's parties (code, name) having one of ``codes`` or one of ``names``."""
    matches: list[ColumnElement[bool]] = []
    if codes:
        matches.append(model.code.in_(list(codes)))
    if names:
        matches.append(model.name.in_(list(names)))
    if not matches:
        return []
    stmt = scoped(select(model.code, model.name), model, ctx).where(or_(*matches))
    return [(str(code), str(name)) for code, name in session.execute(stmt.order_by(model.id))]


def codes_taken(
    session: Session, ctx: RequestContext, model: type[P], codes: Collection[str]
) -> set[str]:
    """Which of ``codes`` the company's parties already use."""
    if not codes:
        return set()
    stmt = scoped(select(model.code), model, ctx).where(model.code.in_(list(codes)))
    return {str(code) for code in session.scalars(stmt)}


def insert_many(session: Session, model: type[P], rows: Sequence[dict[str, Any]]) -> list[int]:
    """Insert ``rows`` (column values) in one statement; their ids, in order. A code taken
    meanwhile by another transaction is a Conflict."""
    if not rows:
        return []
    stmt = insert(model).returning(model.id, sort_by_parameter_order=True)
    try:
        with session.begin_nested():
            return [int(i) for i in session.scalars(stmt, list(rows))]
    except IntegrityError as exc:
        raise Conflict(f"A {_LABEL[model].lower()} code is already in use") from exc


def code_taken(session: Session, ctx: RequestContext, model: type[P], code: str) -> bool:
    """Whether the company already has a party with ``code``."""
    return find_clash(session, ctx, model, code=code) is not None


def add(session: Session, party: P) -> P:
    """Insert ``party``; a unique-constraint race with another transaction is a Conflict."""
    try:
        with session.begin_nested():
            session.add(party)
    except IntegrityError as exc:
        raise Conflict(f"{_LABEL[type(party)]} code {party.code} is already in use") from exc
    return party


def list_parties(
    session: Session,
    ctx: RequestContext,
    model: type[P],
    *,
    q: str | None = None,
    active: bool | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[P], int]:
    """A page of parties by name, filtered by a code/name search and active flag, and the total."""
    stmt = scoped(select(model), model, ctx)
    if q and q.strip():
        pattern = like_pattern(q)
        stmt = stmt.where(
            or_(
                func.lower(model.name).like(pattern, escape="\\"),
                func.lower(model.code).like(pattern, escape="\\"),
            )
        )
    if active is not None:
        stmt = stmt.where(model.is_active.is_(active))
    total = session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
    rows = session.execute(stmt.order_by(model.name, model.id).limit(limit).offset(offset))
    return list(rows.scalars()), int(total)
