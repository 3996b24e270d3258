"""Creating and changing customers and suppliers: codes, duplicates, permissions, audit."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy.orm import Session

from companion.audit import service as audit
from companion.erp.numbering.service import next_code, next_codes
from companion.erp.parties import repository as repo
from companion.erp.parties.models import Customer, Supplier
from companion.erp.parties.schemas import CustomerIn, CustomerUpdate, SupplierIn, SupplierUpdate
from companion.errors import Conflict
from companion.tenancy.context import RequestContext

_CUSTOMER_FIELDS = (
    "code",
    "name",
    "email",
    "phone",
    "payment_terms_days",
    "credit_limit",
    "is_active",
)
_SUPPLIER_FIELDS = tuple(f for f in _CUSTOMER_FIELDS if f != "credit_limit")

# A manually entered code may already sit on the next number; give up after this many.
_MAX_CODE_ATTEMPTS = 1000


def create_customer(session: Session, ctx: RequestContext, data: CustomerIn) -> Customer:
    """Add a customer (sales.write); duplicate code or name in the company is a Conflict."""
    ctx.require("sales.write")
    customer = Customer(company_id=ctx.company_id, **data.model_dump(exclude={"code"}))
    _create(session, ctx, customer, data.code, "CUST", _CUSTOMER_FIELDS)
    return customer


def create_customers(
    session: Session, ctx: RequestContext, rows: Sequence[CustomerIn]
) -> list[int]:
    """Add many customers at once (bulk imports): ``create_customer``'s rules and audit, with
    one duplicate query, one code allocation, one insert and one audit append for the lot;
    their ids, in order."""
    ctx.require("sales.write")
    return _create_many(session, ctx, Customer, rows, "CUST", _CUSTOMER_FIELDS)


def update_customer(
    session: Session, ctx: RequestContext, customer_id: int, data: CustomerUpdate
) -> Customer:
    """Change a customer's fields (sales.write); the changed values are audited."""
    ctx.require("sales.write")
    customer = repo.get_customer(session, ctx, customer_id)
    _update(session, ctx, customer, data.changes())
    return customer


def create_supplier(session: Session, ctx: RequestContext, data: SupplierIn) -> Supplier:
    """Add a supplier (procurement.write); duplicate code or name in the company is a Conflict."""
    ctx.require("procurement.write")
    supplier = Supplier(company_id=ctx.company_id, **data.model_dump(exclude={"code"}))
    _create(session, ctx, supplier, data.code, "SUPP", _SUPPLIER_FIELDS)
    return supplier


def create_suppliers(
    session: Session, ctx: RequestContext, rows: Sequence[SupplierIn]
) -> list[int]:
    """Add many suppliers at once (bulk imports), as ``create_customers`` does customers."""
    ctx.require("procurement.write")
    return _create_many(session, ctx, Supplier, rows, "SUPP", _SUPPLIER_FIELDS)


def update_supplier(
    session: Session, ctx: RequestContext, supplier_id: int, data: SupplierUpdate
) -> Supplier:
    """Change a supplier's fields (procurement.write); the changed values are audited."""
    ctx.require("procurement.write")
    supplier = repo.get_supplier(session, ctx, supplier_id)
    _update(session, ctx, supplier, data.changes())
    return supplier


def _create(
    session: Session,
    ctx: RequestContext,
    party: repo.P,
    code: str | None,
    code_prefix: str,
    fields: tuple[str, ...],
) -> None:
    model = type(party)
    _refuse_duplicates(session, ctx, model, code=code, name=party.name)
    party.code = code or _free_code(session, ctx, model, code_prefix)
    repo.add(session, party)
    audit.record(
        session,
        ctx,
        f"{_entity(party)}.create",
        _entity(party),
        party.id,
        new=_snapshot(party, fields),
    )


def _create_many(
    session: Session,
    ctx: RequestContext,
    model: type[repo.P],
    rows: Sequence[CustomerIn] | Sequence[SupplierIn],
    code_prefix: str,
    fields: tuple[str, ...],
) -> list[int]:
    if not rows:
        return []
    label = model.__name__.lower()
    given = [r.code for r in rows if r.code]
    names = [r.name for r in rows]
    for field_name, values in (("code", given), ("name", names)):
        seen: set[str] = set()
        for value in values:
            if value in seen:
                raise Conflict(
                    f"Two new {label}s have the {field_name} {value}",
                    details={"field": field_name},
                )
            seen.add(value)
    clash = repo.clashes(session, ctx, model, given, names)
    if clash:
        taken, name = clash[0]
        if taken in set(given):
            raise Conflict(f"A {label} with code {taken} already exists", details={"field": "code"})
        raise Conflict(
            f"A {label} named '{name}' already exists ({taken})", details={"field": "name"}
        )
    free = iter(_free_codes(session, ctx, model, code_prefix, len(rows) - len(given), given))
    records = [
        {**r.model_dump(), "company_id": ctx.company_id, "code": r.code or next(free)} for r in rows
    ]
    ids = repo.insert_many(session, model, records)
    audit.record_many(
        session,
        ctx,
        f"{label}.create",
        label,
        [(i, None, {f: v[f] for f in fields}) for i, v in zip(ids, records, strict=True)],
    )
    return ids


def _free_codes(
    session: Session,
    ctx: RequestContext,
    model: type[repo.P],
    prefix: str,
    count: int,
    reserved: Collection[str],
) -> list[str]:
    """``count`` codes from the sequence that no party uses (skipping manually entered ones)."""
    free: list[str] = []
    for _ in range(_MAX_CODE_ATTEMPTS):
        if len(free) == count:
            return free
        candidates = next_codes(session, ctx.company_id, prefix, count - len(free))
        taken = repo.codes_taken(session, ctx, model, candidates) | set(reserved)
        free += [c for c in candidates if c not in taken]
    raise Conflict(f"Could not find free {prefix} codes; give the codes explicitly")


def _update(session: Session, ctx: RequestContext, party: repo.P, changes: dict[str, Any]) -> None:
    changes = {k: v for k, v in changes.items() if getattr(party, k) != v}
    if not changes:
        return
    _refuse_duplicates(
        session,
        ctx,
        type(party),
        code=changes.get("code"),
        name=changes.get("name"),
        exclude_id=party.id,
    )
    old = {k: getattr(party, k) for k in changes}
    for key, value in changes.items():
        setattr(party, key, value)
    session.flush()
    audit.record(
        session, ctx, f"{_entity(party)}.update", _entity(party), party.id, old=old, new=changes
    )


def _refuse_duplicates(
    session: Session,
    ctx: RequestContext,
    model: type[repo.P],
    *,
    code: str | None,
    name: str | None,
    exclude_id: int | None = None,
) -> None:
    clash = repo.find_clash(session, ctx, model, code=code, name=name, exclude_id=exclude_id)
    if clash is None:
        return
    label = model.__name__.lower()
    if code is not None and clash.code == code:
        raise Conflict(
            f"A {label} with code {code} already exists",
            details={"field": "code", "existing_id": clash.id},
        )
    raise Conflict(
        f"A {label} named '{name}' already exists ({clash.code})",
        details={"field": "name", "existing_id": clash.id},
    )


def _free_code(session: Session, ctx: RequestContext, model: type[repo.P], prefix: str) -> str:
    for _ in range(_MAX_CODE_ATTEMPTS):
        code = next_code(session, ctx.company_id, prefix)
        if not repo.code_taken(session, ctx, model, code):
            return code
    raise Conflict(f"Could not find a free {prefix} code; give the code explicitly")


def _entity(party: Customer | Supplier) -> str:
    return type(party).__name__.lower()


def _snapshot(party: Customer | Supplier, fields: tuple[str, ...]) -> dict[str, Any]:
    return {f: getattr(party, f) for f in fields}
