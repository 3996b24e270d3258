"""What can be imported: each kind's columns, who may import it, its unique keys, its writer.

Each row is validated with the same schema the REST API uses and written through the same
ERP service (its rules, its audit record), so an imported customer is like a typed one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from sqlalchemy.orm import Session

from companion.erp.items import service as items
from companion.erp.items.models import Item
from companion.erp.items.schemas import ItemIn
from companion.erp.ledger import repository as ledger_repo
from companion.erp.parties import service as parties
from companion.erp.parties.models import Customer, Supplier
from companion.erp.parties.schemas import CustomerIn, SupplierIn
from companion.jobs.imports import opening
from companion.jobs.imports.opening import Problem
from companion.tenancy.context import RequestContext

Rows = Sequence[tuple[int, BaseModel]]
References = Mapping[str, int]


@dataclass(frozen=True)
class ImportKind:
    """One importable kind of master data."""

    name: str
    permission: str
    schema: type[BaseModel]
    required: tuple[str, ...]
    # Fields unique within the company: a row repeating one (in the file or the master
    # data) is a duplicate.
    keys: tuple[str, ...]
    # The master data the keys are unique in (None: unique within the file only).
    model: type[Customer] | type[Supplier] | type[Item] | None
    # Writes one row (master data), or ``post`` writes the whole file at once.
    create: Callable[[Session, RequestContext, Any], object] | None = None
    # Writes many rows at once (one insert and one audit append per batch), where it can.
    create_many: Callable[[Session, RequestContext, Sequence[Any]], object] | None = None
    # Codes the rows refer to (account code -> id), read before the rows are checked.
    references: Callable[[Session, RequestContext], References] | None = None
    # The kind's own rules: per valid row (against the references), then over the file.
    row_rule: Callable[[BaseModel, References], list[Problem]] | None = None
    file_rule: Callable[[Rows], list[Problem]] | None = None
    post: Callable[..., object] | None = None

    @property
    def columns(self) -> list[str]:
        """Every column the kind reads (others are ignored and reported)."""
        return list(self.schema.model_fields)


KINDS: dict[str, ImportKind] = {
    kind.name: kind
    for kind in (
        ImportKind(
            "customers",
            "sales.write",
            CustomerIn,
            ("name",),
            ("code", "name"),
            Customer,
            parties.create_customer,
            create_many=parties.create_customers,
        ),
        ImportKind(
            "suppliers",
            "procurement.write",
            SupplierIn,
            ("name",),
            ("code", "name"),
            Supplier,
            parties.create_supplier,
            create_many=parties.create_suppliers,
        ),
        ImportKind(
            "items",
            "inventory.adjust",
            ItemIn,
            ("sku", "name", "unit_price", "unit_cost"),
            ("sku",),
            Item,
            items.create_item,
        ),
        ImportKind(
            "opening_balances",
            "finance.post",
            opening.OpeningBalanceIn,
            ("account_code", "debit", "credit", "date"),
            ("account_code",),
            None,
            references=lambda session, ctx: {
                a.code: a.id for a in ledger_repo.list_accounts(session, ctx)
            },
            row_rule=opening.row_problems,
            file_rule=opening.file_problems,
            post=opening.post,
        ),
    )
}
