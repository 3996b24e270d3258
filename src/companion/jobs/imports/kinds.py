"""What can be imported: each kind's columns, who may import it, its unique keys, its writer.

Each row is validated with the same schema the REST API uses and written through the same
ERP service (its rules, its audit record), so an imported customer is like a typed one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from sqlalchemy.orm import Session

from companion.erp.items import service as items
from companion.erp.items.models import Item
from companion.erp.items.schemas import ItemIn
from companion.erp.parties import service as parties
from companion.erp.parties.models import Customer, Supplier
from companion.erp.parties.schemas import CustomerIn, SupplierIn
from companion.tenancy.context import RequestContext


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
    model: type[Customer] | type[Supplier] | type[Item]
    create: Callable[[Session, RequestContext, Any], object]

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
        ),
        ImportKind(
            "suppliers",
            "procurement.write",
            SupplierIn,
            ("name",),
            ("code", "name"),
            Supplier,
            parties.create_supplier,
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
    )
}
