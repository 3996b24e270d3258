"""HTTP endpoints of the parties domain (tenant-scoped, permission-checked)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from companion.erp.parties import repository as repo
from companion.erp.parties.models import Customer, Supplier
from companion.erp.parties.schemas import CustomerOut, SupplierOut
from companion.kit.fields import Text
from companion.tenancy.context import RequestContext
from companion.web.deps import Page, PageDep, RecordId, SessionDep
from companion.web.figures import require_figure

router = APIRouter(tags=["parties"])

SalesReader = Annotated[RequestContext, Depends(require_figure("customers"))]
ProcurementReader = Annotated[RequestContext, Depends(require_figure("suppliers"))]
Search = Annotated[Text | None, Query(max_length=200, description="Code or name contains")]
Active = Annotated[bool | None, Query(description="Only active (true) or inactive (false)")]


@router.get("/customers", response_model=Page[CustomerOut])
def list_customers(
    session: SessionDep, ctx: SalesReader, page: PageDep, q: Search = None, active: Active = None
) -> Page[CustomerOut]:
    """Customers of the active company, by name."""
    rows, total = repo.list_parties(
        session, ctx, Customer, q=q, active=active, limit=page.limit, offset=page.offset
    )
    return Page[CustomerOut](
        items=[CustomerOut.model_validate(r) for r in rows],
        total=total,
        limit=page.limit,
        offset=page.offset,
    )


@router.get("/customers/{customer_id}", response_model=CustomerOut)
def get_customer(session: SessionDep, ctx: SalesReader, customer_id: RecordId) -> CustomerOut:
    """One customer."""
    return CustomerOut.model_validate(repo.get_customer(session, ctx, customer_id))


@router.get("/suppliers", response_model=Page[SupplierOut])
def list_suppliers(
    session: SessionDep,
    ctx: ProcurementReader,
    page: PageDep,
    q: Search = None,
    active: Active = None,
) -> Page[SupplierOut]:
    """Suppliers of the active company, by name."""
    rows, total = repo.list_parties(
        session, ctx, Supplier, q=q, active=active, limit=page.limit, offset=page.offset
    )
    return Page[SupplierOut](
        items=[SupplierOut.model_validate(r) for r in rows],
        total=total,
        limit=page.limit,
        offset=page.offset,
    )


@router.get("/suppliers/{supplier_id}", response_model=SupplierOut)
def get_supplier(session: SessionDep, ctx: ProcurementReader, supplier_id: RecordId) -> SupplierOut:
    """One supplier."""
    return SupplierOut.model_validate(repo.get_supplier(session, ctx, supplier_id))
